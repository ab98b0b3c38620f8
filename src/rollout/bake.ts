// The bake: after a batch is back in rotation, time for the new release to show what the health
// check cannot (errors on a share of requests, slow pages) before the next batch follows. An
// analysis-command judges it, on the runner like the probes, every analysis-interval and at the end.
import type { AnalysisSettings, Settings } from '../inputs/settings.js'
import type { Clock, Log, Runner } from '../ports.js'
import { bakeVariables } from '../variables.js'

export interface Measurement {
  /** Milliseconds since the rollout started, when the measurement began. */
  readonly atMs: number
  /** null when it did not exit by itself (timed out, cancelled). */
  readonly code: number | null
  readonly lastLine: string
}

export interface BakeReport {
  /** The batch that baked. */
  readonly batch: number
  readonly startMs: number
  readonly durationMs: number
  readonly measurements: readonly Measurement[]
  /** passed: the next batch may start; failed: analysis-failures measurements failed. */
  readonly verdict: 'passed' | 'failed' | 'cancelled'
}

export interface BakeDeps {
  readonly settings: Settings
  readonly runner: Runner
  readonly clock: Clock
  readonly log: Log
  readonly signal: AbortSignal
  /** Clock reading when the rollout started. */
  readonly origin: number
}

/** How long batch `batch` (1-based) bakes: its batch-size step's bake-time, the last repeating. */
export function bakeTimeMs(settings: Settings, batch: number): number {
  const times = settings.bake?.timesMs ?? []
  return times.length === 0 ? 0 : times[Math.min(batch - 1, times.length - 1)]
}

/**
 * Bakes batch `batch`, `updated` being the hosts entries now on the new release. Measurements run
 * on a fixed schedule from the bake's start (every interval, and once at the end); the bake ends
 * early, failed, once analysis-failures of them failed.
 */
export async function bake(deps: BakeDeps, batch: number, updated: readonly string[]): Promise<BakeReport> {
  const { settings, clock, log, signal, origin } = deps
  const analysis = settings.bake?.analysis
  const start = clock.now()
  const end = start + bakeTimeMs(settings, batch)
  const measurements: Measurement[] = []
  const report = (verdict: BakeReport['verdict']): BakeReport => ({
    batch,
    startMs: start - origin,
    durationMs: clock.now() - start,
    measurements,
    verdict
  })
  log.info(`Baking batch ${batch} for ${end - start} ms${analysis ? `, judged by analysis-command` : ''}`)
  let failed = 0
  for (let tick = 1; ; tick++) {
    const at = analysis ? Math.min(start + tick * analysis.intervalMs, end) : end
    await clock.sleep(at - clock.now(), signal)
    if (signal.aborted) return report('cancelled')
    if (!analysis) return report('passed')
    const measurement = await measure(deps, analysis, batch, updated)
    measurements.push(measurement)
    if (signal.aborted) return report('cancelled')
    if (measurement.code !== 0 && ++failed >= analysis.failures) return report('failed')
    if (at >= end) return report('passed')
  }
}

async function measure(
  { settings, runner, clock, log, signal, origin }: BakeDeps,
  analysis: AnalysisSettings,
  batch: number,
  updated: readonly string[]
): Promise<Measurement> {
  const env = bakeVariables(settings, batch, updated)
  const atMs = clock.now() - origin
  const { code, timedOut, lastLine } = await runner.run(analysis.command, {
    env,
    timeoutMs: analysis.intervalMs,
    signal
  })
  const seen = timedOut ? `timed out after ${analysis.intervalMs} ms` : `exit code ${code}`
  const line = `Analysis of batch ${batch}: ${seen}${lastLine ? `: ${lastLine}` : ''}`
  if (code === 0) log.info(line)
  else log.warning(line, `Analysis failed (batch ${batch})`)
  return { atMs, code, lastLine: timedOut ? `timed out after ${analysis.intervalMs} ms` : lastLine }
}
