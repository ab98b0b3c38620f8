// The batch policy: batches one after another, the hosts of a batch in parallel; before a batch,
// the capacity floor; after it, the bake; a stop once more hosts failed than max-failed-hosts
// allows, or an analysis failed. Hosts it never reaches stay untouched.
import { rollHostBack, runHost, skippedHost } from './host-run.js'
import { countsAsFailed, type HostReport } from './host-report.js'
import type { HostRelease } from './release-history.js'
import type { HostState } from './journal.js'
import { stepColumns, type StepName } from './host-steps.js'
import { placeHosts, planBatches, type PlacedHost } from './placement.js'
import { awaitCapacity } from './capacity.js'
import { bake, bakeTimeMs, type BakeDeps, type BakeReport } from './bake.js'
import { errorMessage } from '../errors.js'
import type { Clock, LoadBalancer, Log, Progress, RemoteHost, Runner } from '../ports.js'
import type { Settings } from '../inputs/settings.js'
import { batchTitle } from './summary-limits.js'

export type RolloutStatus = 'success' | 'failure' | 'cancelled'

export interface RolloutResult {
  readonly status: RolloutStatus
  /** In `hosts` order. */
  readonly hosts: readonly HostReport[]
  readonly batches: number
  /** Release mode: the release every host went to (the `release` output). */
  readonly release?: string
  /** Every step a host may go through, in order: the summary's columns. */
  readonly steps: readonly StepName[]
  /** The bakes, in order (bake-time). */
  readonly bakes: readonly BakeReport[]
  readonly durationMs: number
  /** Why the rollout ended early, if it did. */
  readonly stoppedBecause?: string
}

export interface RolloutDeps {
  readonly settings: Settings
  /** Connected hosts, in `settings.hosts` order. */
  readonly hosts: readonly RemoteHost[]
  /** Where analysis-command runs. */
  readonly runner: Runner
  /** How hosts leave and rejoin the load balancer, and where the capacity floor reads rotation. */
  readonly lb: LoadBalancer
  readonly clock: Clock
  readonly log: Log
  readonly signal: AbortSignal
  /** Release mode: each host's release before the run and the one it goes to, in `hosts` order. */
  readonly releases?: readonly HostRelease[]
  /** Told of each batch, step and finished host (a live view); the action passes none. */
  readonly progress?: Progress
  /** How preflight found each host, and its journal, in `hosts` order. */
  readonly states?: readonly HostState[]
}

/** Why the rollout ended before its last batch: what the summary and the step's error say. */
interface Stop {
  readonly because: string
  /** cancelled: the run's status says it; hosts: the failed hosts do; capacity and analysis fail the run themselves. */
  readonly kind: 'cancelled' | 'hosts' | 'capacity' | 'analysis'
}

const CANCELLED: Stop = { kind: 'cancelled', because: 'the run was cancelled' }

export async function runBatches(deps: RolloutDeps): Promise<RolloutResult> {
  const { settings, hosts, clock, log, signal, releases, progress } = deps
  const origin = clock.now()
  const batches = placeHosts(hosts, releases, settings.batches.size)
  const reports = new Map<number, HostReport>()
  const bakes: BakeReport[] = []
  let stop: Stop | undefined
  for (const [b, batch] of batches.entries()) {
    stop = await beforeBatch(deps, b + 1, batch, batches.flat())
    if (stop) break
    // A batch of 50 is named by its count and its first hosts: the group's title stays one line.
    const names = batchTitle(batch.map(({ target }) => target.entry))
    const targets = batch.map(({ target }) => target)
    progress?.({ kind: 'batch', batch: b + 1, batches: batches.length, hosts: targets, total: hosts.length })
    const done = await log.group(`Batch ${b + 1}/${batches.length}: ${names}`, () =>
      Promise.all(batch.map((place) => runHost({ ...deps, ...place, origin, ...deps.states?.[place.index - 1] })))
    )
    batch.forEach(({ index }, i) => reports.set(index, done[i]))
    if (b === batches.length - 1) break
    const failed = [...reports.values()].filter(countsAsFailed).length
    const migration = done.find((report) => report.failedStep === 'migrate')
    if (signal.aborted) stop = CANCELLED
    // Whatever max-failed-hosts allows: no other host may run a release whose migration failed.
    else if (migration) stop = { kind: 'hosts', because: `the migration failed on ${migration.target.entry}` }
    else if (failed > settings.batches.maxFailedHosts)
      stop = {
        kind: 'hosts',
        because: `${failed} host(s) failed and max-failed-hosts is ${settings.batches.maxFailedHosts}`
      }
    else if (settings.bake) stop = await bakeBatch({ ...deps, origin }, b + 1, reports, bakes)
    if (stop) break
  }
  const all = batches.flatMap((batch) =>
    batch.map(
      ({ target, index, batch: b }) => reports.get(index) ?? skippedHost(target, b, deps.states?.[index - 1]?.found)
    )
  )
  // A failed analysis rolls the fleet back like a failed host; a capacity stop does not: the hosts
  // done are healthy, and rolling them back would take more hosts out of a fleet already short.
  const rollBack = all.some(countsAsFailed) || stop?.kind === 'analysis'
  const failed = rollBack || stop?.kind === 'capacity'
  let stoppedBecause = stop?.because
  if (rollBack && settings.release?.rollbackScope === 'fleet') {
    const back = await rollFleetBack({ ...deps, origin }, all)
    back.reports.forEach((report) => (all[hosts.findIndex((host) => host.target === report.target)] = report))
    if (back.stopped) stoppedBecause = [stoppedBecause, back.stopped].filter(Boolean).join('; ')
  }
  const status: RolloutStatus = signal.aborted ? 'cancelled' : failed ? 'failure' : 'success'
  const ids = [...new Set(all.flatMap((host) => (host.release ? [host.release.to] : [])))]
  return {
    status,
    hosts: all,
    batches: batches.length,
    steps: stepColumns(settings),
    release: ids.length === 1 ? ids[0] : undefined,
    bakes,
    durationMs: clock.now() - origin,
    stoppedBecause
  }
}

/** Before batch `number` leaves rotation: batch-pause, then the capacity floor; a Stop if it must not. */
async function beforeBatch(
  deps: RolloutDeps,
  number: number,
  batch: readonly PlacedHost[],
  all: readonly PlacedHost[]
): Promise<Stop | undefined> {
  const { settings, clock, signal } = deps
  if (number > 1 && settings.batches.pauseMs > 0) await clock.sleep(settings.batches.pauseMs, signal)
  if (signal.aborted) return CANCELLED
  if (!settings.capacity) return undefined
  const others = all.filter((place) => !batch.includes(place))
  try {
    await awaitCapacity(deps, settings.capacity, { number, hosts: batch }, others)
    return undefined
  } catch (error: unknown) {
    return signal.aborted ? CANCELLED : { kind: 'capacity', because: errorMessage(error) }
  }
}

/** The bake after batch `number`; a Stop when its analysis failed it or the run was cancelled. */
async function bakeBatch(
  deps: BakeDeps & { readonly progress?: Progress },
  number: number,
  reports: ReadonlyMap<number, HostReport>,
  bakes: BakeReport[]
): Promise<Stop | undefined> {
  const ms = bakeTimeMs(deps.settings, number)
  if (ms === 0) return undefined
  const updated = [...reports.entries()]
    .sort(([a], [b]) => a - b)
    .filter(([, report]) => report.outcome === 'succeeded' || report.outcome === 'unchanged')
    .map(([, report]) => report.target.entry)
  deps.progress?.({ kind: 'bake', batch: number, ms })
  const baked = await deps.log.group(`Bake after batch ${number}`, () => bake(deps, number, updated))
  bakes.push(baked)
  if (baked.verdict === 'cancelled') return CANCELLED
  if (baked.verdict === 'passed') return undefined
  const failures = baked.measurements.filter((m) => m.code !== 0)
  return {
    kind: 'analysis',
    because: `the analysis failed ${failures.length} of ${baked.measurements.length} measurement(s) in batch ${number}'s bake (last: ${failures[failures.length - 1]?.lastLine || `exit code ${failures[failures.length - 1]?.code}`})`
  }
}

/**
 * rollback-scope fleet, once the rollout stopped on a failure: every host this run switched goes
 * back to its previous release, in reverse order and in batches of the same sizes, through the
 * same load balancer steps, so users see no errors and no more than a batch is ever out. It has a
 * brake: before each batch leaves rotation, a failed rollback, a cancel (the host in flight
 * finishes first: a half-done rollback is worse) or the capacity floor stops it, and says which
 * hosts it left on the new release (serving, healthy).
 */
async function rollFleetBack(
  deps: RolloutDeps & { origin: number },
  reports: readonly HostReport[]
): Promise<{ reports: HostReport[]; stopped?: string }> {
  const { settings, hosts, log } = deps
  const placed = placeHosts(hosts, deps.releases, settings.batches.size).flat()
  const switched = reports
    .map((report, i) => ({ report, host: hosts[i], index: i + 1, place: placed[i] }))
    .filter(({ report }) => report.outcome === 'succeeded' && report.release?.from !== undefined)
    .reverse()
  const batches = planBatches(switched, settings.batches.size)
  const done: HostReport[] = []
  for (const [b, batch] of batches.entries()) {
    const places = batch.map(({ place }) => place)
    const halt = await rollbackBrake(deps, done, { number: b + 1, hosts: places }, placed)
    if (halt !== undefined) {
      const left = batches.slice(b).flatMap((rest) => rest.map(({ host }) => host.target.entry))
      const stopped = `the fleet rollback stopped (${halt}); still on the new release: ${left.join(', ')}`
      log.warning(stopped, 'Fleet rollback stopped')
      return { reports: done, stopped }
    }
    const names = batchTitle(batch.map(({ host }) => host.target.entry))
    done.push(
      ...(await log.group(`Rolling back ${b + 1}: ${names}`, () =>
        Promise.all(
          batch.map(({ report, host, index }) =>
            rollHostBack(
              { ...deps, host, index, batch: report.batch, release: report.release, ...deps.states?.[index - 1] },
              report
            )
          )
        )
      ))
    )
  }
  return { reports: done }
}

/** Why the fleet rollback must not take `batch` out: a rollback failed, the run was cancelled, or the capacity floor. */
async function rollbackBrake(
  deps: RolloutDeps,
  done: readonly HostReport[],
  batch: { readonly number: number; readonly hosts: readonly PlacedHost[] },
  all: readonly PlacedHost[]
): Promise<string | undefined> {
  const { settings, signal } = deps
  const failed = done.filter((report) => report.outcome === 'failed').map((report) => report.target.entry)
  if (failed.length > 0) return `the rollback of ${failed.join(', ')} failed`
  if (signal.aborted) return CANCELLED.because
  if (!settings.capacity) return undefined
  const others = all.filter((place) => !batch.hosts.includes(place))
  return awaitCapacity(deps, settings.capacity, batch, others).then(
    () => undefined,
    (error: unknown) => (signal.aborted ? CANCELLED.because : errorMessage(error))
  )
}
