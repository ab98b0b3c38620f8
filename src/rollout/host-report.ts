// What one host's run reports: its outcome, its rotation when the run ends, its timeline, and how
// preflight found it; the rules the batch policy and the report read from it.
import type { Target } from '../inputs/settings.js'
import type { StepName } from './host-steps.js'
import type { HostFound } from './journal.js'
import type { Diagnosis, HealthSeen } from './evidence.js'
import type { HostRelease } from './release-history.js'

export interface StepRecord {
  readonly name: StepName
  /** Milliseconds since the rollout started. */
  readonly startMs: number
  readonly durationMs: number
  readonly ok: boolean
}

/** `unchanged`: release mode, already on the release and healthy (a re-run): not cycled. */
export type HostOutcome = 'succeeded' | 'unchanged' | 'failed' | 'rolled-back' | 'cancelled' | 'skipped'
/** Whether the load balancer should be sending this host traffic when the run ends. */
export type Rotation = 'in' | 'out' | 'unknown'

export interface HostReport {
  readonly target: Target
  readonly batch: number
  readonly outcome: HostOutcome
  readonly rotation: Rotation
  readonly failedStep?: StepName
  readonly error?: string
  /** The last lines the failed step printed (a host that did not fail: its last step's), masked. */
  readonly outputTail: readonly string[]
  /** The failed step's last health answer that did not pass, if it checked health. */
  readonly lastHealth?: HealthSeen
  /** diagnose-command's run, on a failed host when the input is set. */
  readonly diagnosis?: Diagnosis
  readonly timeline: readonly StepRecord[]
  readonly durationMs: number
  /** Release mode: where the host was, and where this run took it. */
  readonly release?: HostRelease
  /** How preflight found it: in rotation or not, left mid-cycle by a run that died. */
  readonly found?: HostFound
}

/** Hosts that fail the run and count against max-failed-hosts: not on the new release by themselves. */
export function countsAsFailed(report: HostReport): boolean {
  return report.outcome === 'failed' || report.outcome === 'rolled-back'
}

/** Hosts that need a look: touched and not on the new release (failed, rolled back, cancelled). */
export function needsAttention(report: HostReport): boolean {
  return countsAsFailed(report) || report.outcome === 'cancelled'
}

/** Hosts the rollout did not reach, or whose batch was never started: as preflight found them (`in` unmeasured). */
export function skippedHost(target: Target, batch: number, found?: HostFound): HostReport {
  const rotation = found?.rotation ?? 'in'
  return { target, batch, outcome: 'skipped', rotation, outputTail: [], timeline: [], durationMs: 0, found }
}
