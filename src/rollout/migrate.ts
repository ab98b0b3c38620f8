// Release mode's run-once step: migrate-command on one host, in the new release with its
// variables, after every host prepared and before any host switches, so no host ever serves the
// new release before its migration passed. A passed one is recorded on the host where it ran (a
// `migrated` line in its .history), so a re-run of the release skips it (unless migrate: always);
// one that fails or is cancelled leaves the fleet as a failed prepare does: the release removed
// from every host, no host out of rotation.
import { errorMessage } from '../errors.js'
import type { Clock, ExecResult, Log, RemoteHost } from '../ports.js'
import * as scripts from '../ssh/release-scripts.js'
import { githubRun, hostVariables } from '../variables.js'
import { journaled, type HostState } from './journal.js'
import type { MigrationReport } from './migrate-report.js'
import { placedInOrder } from './placement.js'
import { historyLine, type HostRelease } from './release-history.js'
import { RELEASE_REMOVED, removePrepared, type ReleaseModeSettings } from './releases.js'
import { failureOf, runScript } from './run-on-host.js'
import { HostEvidence } from './evidence.js'
import { masker } from '../inputs/secrets.js'

export interface MigrateDeps {
  readonly hosts: readonly RemoteHost[]
  readonly releases: readonly HostRelease[]
  readonly states: readonly HostState[]
  readonly settings: ReleaseModeSettings
  readonly log: Log
  readonly signal: AbortSignal
  readonly clock: Clock
}

/** The lines of its output the summary and the report keep. */
export const MIGRATION_TAIL_LINES = 10

/** Runs migrate-command once for the fleet, or says where it passed before; undefined when there is none to run. */
export async function migrateBeforeSwitch(deps: MigrateDeps): Promise<MigrationReport | undefined> {
  const { settings, hosts, releases, log } = deps
  const { migrate, release } = settings
  // rollback-to deploys nothing, so it never migrates (and would go against the schema it has).
  if (migrate === undefined || release.rollbackTo !== undefined) return undefined
  const earlier = releases.findIndex((plan) => plan.migrated !== undefined)
  const migrated = releases[earlier]?.migrated
  if (migrated && !migrate.always) {
    const host = hosts[earlier].target.entry
    log.info(
      `migrate-command skipped: release ${release.id}'s migration passed on ${host} at ${migrated.at} (run ${migrated.run}); migrate: always runs it again`
    )
    return { host, result: 'skipped', durationMs: 0, outputTail: [], passed: { host, ...migrated } }
  }
  const index = hosts.findIndex((host) => host.target.entry === migrate.host)
  return log.group(`Migration: once, on ${migrate.host}, before any host switches`, () => migrateOn(deps, index))
}

async function migrateOn(deps: MigrateDeps, index: number): Promise<MigrationReport> {
  const { settings, hosts, releases, states, log, signal, clock } = deps
  const { dir, id } = settings.release
  const host = hosts[index]
  const entry = host.target.entry
  const { timeoutMs } = settings.commands
  // Masked and clipped as every step's output is, before the log, the summary and the report see it.
  const evidence = new HostEvidence(masker(settings.hidden))
  const started = clock.now()
  // Cancelled after the prepare: it never starts (an exec given an aborted signal would start, then end it).
  const run = async (): Promise<ExecResult> =>
    signal.aborted
      ? { code: null, timedOut: false }
      : host.exec(scripts.inRelease(dir, id, settings.migrate?.command ?? 'false'), {
          env: hostVariables(settings, placedInOrder(hosts, settings, releases)[index]),
          timeoutMs,
          signal,
          groupFile: states[index]?.journal.groupFile,
          onLine: (line) => log.info(`[${entry}] ${evidence.line(line)}`)
        })
  const failure = await journaled(states.slice(index, index + 1), 'migrate', run).then(
    (result) => failureOf(result, timeoutMs, signal),
    (error: unknown) => errorMessage(error)
  )
  const outputTail = evidence.report().outputTail.slice(-MIGRATION_TAIL_LINES)
  const ended = { host: entry, durationMs: clock.now() - started, outputTail }
  if (failure === undefined) {
    await recordPassed(host, settings, log)
    log.info(`[${entry}] migrate-command passed for release ${id}`)
    return { ...ended, result: 'passed' }
  }
  const prepared = hosts.filter((_, i) => releases[i].from !== releases[i].to)
  await removePrepared(prepared, settings, log)
  return {
    ...ended,
    result: signal.aborted ? 'cancelled' : 'failed',
    error: `migrate-command on ${entry} ${signal.aborted ? 'was cancelled' : `failed (${failure})`}; ${RELEASE_REMOVED}`
  }
}

/** The `migrated` line in the host's history: a failure to write it is a warning (a re-run migrates again). */
async function recordPassed(host: RemoteHost, settings: ReleaseModeSettings, log: Log): Promise<void> {
  const { dir, id } = settings.release
  const line = historyLine('migrated', id, new Date(), githubRun().runUrl ?? '')
  await runScript(host, scripts.appendHistory(dir, [line]), settings, log).catch((error: unknown) =>
    log.warning(
      `${host.target.entry}: the migration's record was not written (a re-run of ${id} runs it again): ${errorMessage(error)}`,
      'Migration not recorded'
    )
  )
}
