// The batch policy: batches one after another, the hosts of a batch in parallel, and a stop
// once more hosts failed than max-failed-hosts allows. Hosts it never reaches stay untouched.
import { countsAsFailed, rollHostBack, runHost, skippedHost, type HostReport } from './host-run.js'
import type { HostRelease } from './releases.js'
import { stepColumns, type StepName } from './host-steps.js'
import { planBatches } from './plan.js'
import type { Clock, Log, Progress, RemoteHost, Runner } from '../ports.js'
import type { Settings } from '../inputs/settings.js'

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
  readonly durationMs: number
  /** Why the rollout ended early, if it did. */
  readonly stoppedBecause?: string
}

export interface RolloutDeps {
  readonly settings: Settings
  /** Connected hosts, in `settings.hosts` order. */
  readonly hosts: readonly RemoteHost[]
  readonly runner: Runner
  readonly clock: Clock
  readonly log: Log
  readonly signal: AbortSignal
  /** Release mode: each host's release before the run and the one it goes to, in `hosts` order. */
  readonly releases?: readonly HostRelease[]
  /** Told of each batch, step and finished host (a live view); the action passes none. */
  readonly progress?: Progress
}

export async function runBatches(deps: RolloutDeps): Promise<RolloutResult> {
  const { settings, hosts, runner, clock, log, signal, releases } = deps
  const { progress } = deps
  const origin = clock.now()
  const batches = planBatches(
    hosts.map((host, i) => ({ host, index: i + 1, release: releases?.[i] })),
    settings.batches.size
  )
  const reports = new Map<number, HostReport>()
  let stoppedBecause: string | undefined
  for (const [b, batch] of batches.entries()) {
    if (b > 0 && settings.batches.pauseMs > 0) await clock.sleep(settings.batches.pauseMs, signal)
    if (signal.aborted) {
      stoppedBecause = 'the run was cancelled'
      break
    }
    const names = batch.map(({ host }) => host.target.entry).join(', ')
    progress?.({ kind: 'batch', batch: b + 1, batches: batches.length, hosts: batch.map(({ host }) => host.target) })
    const done = await log.group(`Batch ${b + 1}/${batches.length}: ${names}`, () =>
      Promise.all(
        batch.map(({ host, index, release }) =>
          runHost({ host, runner, settings, clock, log, signal, batch: b + 1, index, origin, release, progress })
        )
      )
    )
    batch.forEach(({ index }, i) => reports.set(index, done[i]))
    const failed = [...reports.values()].filter(countsAsFailed).length
    if (signal.aborted) {
      stoppedBecause = 'the run was cancelled'
      break
    }
    if (failed > settings.batches.maxFailedHosts && b < batches.length - 1) {
      stoppedBecause = `${failed} host(s) failed and max-failed-hosts is ${settings.batches.maxFailedHosts}`
      break
    }
  }
  const all = batches.flatMap((batch, b) =>
    batch.map(({ host, index }) => reports.get(index) ?? skippedHost(host.target, b + 1))
  )
  const failed = all.some(countsAsFailed)
  if (failed && settings.release?.rollbackScope === 'fleet') {
    const rolledBack = await rollFleetBack({ ...deps, origin }, all)
    rolledBack.forEach((report) => (all[hosts.findIndex((host) => host.target === report.target)] = report))
  }
  const status: RolloutStatus = signal.aborted ? 'cancelled' : failed ? 'failure' : 'success'
  const ids = [...new Set(all.flatMap((host) => (host.release ? [host.release.to] : [])))]
  return {
    status,
    hosts: all,
    batches: batches.length,
    steps: stepColumns(settings),
    release: ids.length === 1 ? ids[0] : undefined,
    durationMs: clock.now() - origin,
    stoppedBecause
  }
}

/**
 * rollback-scope fleet, once the rollout stopped on a failure: every host this run switched goes
 * back to its previous release, in reverse order and in batches of the same sizes, through the
 * same load balancer steps, so users see no errors and no more than a batch is ever out.
 */
async function rollFleetBack(
  deps: RolloutDeps & { origin: number },
  reports: readonly HostReport[]
): Promise<HostReport[]> {
  const { settings, hosts, log } = deps
  const switched = reports
    .map((report, i) => ({ report, host: hosts[i], index: i + 1 }))
    .filter(({ report }) => report.outcome === 'succeeded' && report.release?.from !== undefined)
    .reverse()
  const done: HostReport[] = []
  for (const [b, batch] of planBatches(switched, settings.batches.size).entries()) {
    const names = batch.map(({ host }) => host.target.entry).join(', ')
    done.push(
      ...(await log.group(`Rolling back ${b + 1}: ${names}`, () =>
        Promise.all(
          batch.map(({ report, host, index }) =>
            rollHostBack({ ...deps, host, index, batch: report.batch, release: report.release }, report)
          )
        )
      ))
    )
  }
  return done
}
