// A synthetic RolloutResult of any size, without running a rollout: what the summary and the
// outputs are measured on at 50, 500 and 2,000 hosts. Failed hosts print 20 long lines each (the
// most output a host's report keeps), so the sizes measured are near the worst case.
import type { RolloutResult } from '../../src/rollout/batches.js'
import type { BakeReport } from '../../src/rollout/bake.js'
import type { HostOutcome, HostReport, StepRecord } from '../../src/rollout/host-report.js'
import type { StepName } from '../../src/rollout/host-steps.js'

const STEPS: readonly StepName[] = ['offline', 'offline-wait', 'stop', 'start', 'health', 'online', 'online-wait']
const STEP_MS = 1000

export interface BigResultOptions {
  readonly hosts: number
  /** Hosts per batch. */
  readonly batchSize: number
  /** These host numbers (1-based) fail at `health`. */
  readonly failed?: readonly number[]
  /** Host numbers from this one on were never reached. */
  readonly skippedFrom?: number
  /** A bake after every batch but the last. */
  readonly bakes?: boolean
}

export const hostName = (n: number) => `deploy@web-${String(n).padStart(4, '0')}.eu-west-1.example.internal`

export function bigResult({ hosts, batchSize, failed = [], skippedFrom, bakes }: BigResultOptions): RolloutResult {
  const batches = Math.ceil(hosts / batchSize)
  const batchMs = STEPS.length * STEP_MS + (bakes ? 60_000 : 0)
  const reports = Array.from({ length: hosts }, (_, i): HostReport => {
    const n = i + 1
    const batch = Math.ceil(n / batchSize)
    const target = { entry: hostName(n), user: 'deploy', host: hostName(n).slice(7), port: 22 }
    if (skippedFrom !== undefined && n >= skippedFrom)
      return { target, batch, outcome: 'skipped', rotation: 'in', outputTail: [], timeline: [], durationMs: 0 }
    const fails = failed.includes(n)
    const start = (batch - 1) * batchMs + (n % 7)
    const timeline = STEPS.slice(0, fails ? 5 : STEPS.length).map((name, s): StepRecord => ({
      name,
      startMs: start + s * STEP_MS,
      durationMs: STEP_MS,
      ok: !(fails && name === 'health')
    }))
    const outcome: HostOutcome = fails ? 'failed' : 'succeeded'
    return {
      target,
      batch,
      outcome,
      rotation: fails ? 'out' : 'in',
      ...(fails ? { failedStep: 'health' as const, error: 'not healthy after 30000 ms: HTTP 503' } : {}),
      outputTail: fails ? Array.from({ length: 20 }, (_, l) => `${l}: ${'starting worker pool; '.repeat(9)}`) : [],
      timeline,
      durationMs: timeline.length * STEP_MS
    }
  })
  const bakeReports = bakes
    ? Array.from({ length: batches - 1 }, (_, b): BakeReport => ({
        batch: b + 1,
        startMs: b * batchMs + STEPS.length * STEP_MS,
        durationMs: 60_000,
        verdict: 'passed',
        measurements: Array.from({ length: 6 }, (_, m) => ({ atMs: m * 10_000, code: 0, lastLine: 'error rate 0.01%' }))
      }))
    : []
  return {
    status: failed.length > 0 ? 'failure' : 'success',
    hosts: reports,
    batches,
    steps: STEPS,
    bakes: bakeReports,
    durationMs: batches * batchMs,
    ...(failed.length > 0 ? { stoppedBecause: `${failed.length} host(s) failed and max-failed-hosts is 20` } : {})
  }
}
