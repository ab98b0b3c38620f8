// Wires the data flow together: inputs → settings → preflight → rollout → report.
import * as core from '@actions/core'
import { actionsLog } from './runner/actions-log.js'
import { dryRunPlan } from './rollout/dry-run.js'
import { systemClock, type Connector, type Log, type Progress, type RemoteHost, type Runner } from './ports.js'
import { failureMessage, writeReport, type ReportWriter, type RunOutcome } from './rollout/report.js'
import { errorMessage } from './errors.js'
import { DeployLocks } from './rollout/locks.js'
import { PARKED_LEASE_MS } from './rollout/lock-beats.js'
import { fleetFits } from './inputs/read-connection.js'
import { journaled, readHostStates } from './rollout/journal.js'
import { preflightFleet } from './rollout/preflight-fleet.js'
import { runBatches, type RolloutResult } from './rollout/batches.js'
import { inReleaseMode, prepareReleases, readHostReleases, type ReleaseModeSettings } from './rollout/releases.js'
import type { HostRelease } from './rollout/release-history.js'
import { migrateBeforeSwitch, type MigrateDeps } from './rollout/migrate.js'
import { auditReleases, closeReleases } from './rollout/release-records.js'
import { localRunner } from './runner/local-runner.js'
import { secretValues } from './inputs/secrets.js'
import { saveReportFile } from './runner/report-file.js'
import { getSettings, SettingsError, type ReadInput } from './inputs/get-settings.js'
import type { Settings } from './inputs/settings.js'
import { createSshConnector } from './ssh/connector.js'

export interface MainDeps {
  readonly readInput: ReadInput
  readonly connector: (settings: Settings) => Connector
  readonly runner: Runner
  readonly log: Log
  readonly writer: ReportWriter
  readonly signal: AbortSignal
  readonly fail: (message: string) => void
  /** A live view of the rollout (the command line's terminal); the action has none. */
  readonly progress?: Progress
}

/** Masks secrets before anything else can print them. */
export function maskSecrets(readInput: ReadInput): void {
  for (const secret of secretValues(readInput)) core.setSecret(secret)
}

export async function runWith(deps: MainDeps): Promise<void> {
  const { log } = deps
  let settings: Settings
  try {
    settings = getSettings(deps.readInput)
  } catch (error: unknown) {
    if (error instanceof SettingsError) return deps.fail(error.message)
    throw error
  }
  settings.warnings.forEach((warning) => log.warning(warning, 'Risky setting'))
  const connector = deps.connector(settings)
  const outcome = await runSettled(settings, deps, connector)
  const connections = connector.connections?.()
  if (connections)
    log.info(
      `SSH connections: at most ${connections.peakOpen} open at once (max-connections ${connections.limit}), ` +
        `${connections.opened} opened, ${connections.handshakeRetries} handshake(s) retried`
    )
  await writeReport({ ...outcome, connections }, deps.writer, log)
  const failure = failureMessage(outcome)
  if (failure !== undefined) deps.fail(failure)
}

/** Preflight, then the dry-run plan or the rollout: how the run ended, whatever happened. */
async function runSettled(settings: Settings, deps: MainDeps, connector: Connector): Promise<RunOutcome> {
  const { log, signal } = deps
  let found: Awaited<ReturnType<typeof preflightFleet>>
  try {
    found = await preflightFleet(settings, deps, connector)
  } catch (error: unknown) {
    return { status: signal.aborted ? 'cancelled' : 'failure', error: errorMessage(error) }
  }
  const { hosts, healthPaths, lb, places, left } = found
  const leaseMs = fleetFits(settings.ssh, hosts.length) ? 0 : PARKED_LEASE_MS
  const locks = settings.lock && new DeployLocks(hosts, settings.lock, systemClock, log, leaseMs)
  try {
    const lockFindings = locks && settings.dryRun ? await locks.report() : undefined
    if (locks && !settings.dryRun) await log.group('Deploy lock', () => locks.take(signal))
    const releaseMode = inReleaseMode(settings) ? settings : undefined
    const releases =
      releaseMode && (await log.group('Releases on the hosts', () => readHostReleases(hosts, releaseMode, log)))
    if (settings.dryRun)
      return {
        status: 'success',
        plan: dryRunPlan(settings, hosts, { releases, locks: lockFindings, healthPaths, lbPlaces: places }, log)
      }
    const states = await log.group('Hosts as found: journals and rotation', () =>
      readHostStates({ hosts, settings, lb, log, releases, left })
    )
    const migration =
      releaseMode && releases && (await prepareFleet({ hosts, releases, states, settings: releaseMode, log, signal }))
    if (migration && migration.result !== 'passed' && migration.result !== 'skipped')
      return { status: signal.aborted ? 'cancelled' : 'failure', error: migration.error, migration }
    const rollout = await runBatches({
      settings,
      hosts,
      runner: deps.runner,
      lb,
      clock: systemClock,
      log,
      signal,
      releases,
      progress: deps.progress,
      states
    })
    // Cancelled: the runner kills the process soon; the locks go back before the slower audit writes.
    if (signal.aborted) await locks?.release()
    if (releaseMode && releases) await finishReleases(hosts, releases, rollout, releaseMode, log)
    return { status: rollout.status, rollout, migration: migration || undefined }
  } catch (error: unknown) {
    return { status: signal.aborted ? 'cancelled' : 'failure', error: errorMessage(error) }
  } finally {
    await locks?.release()
    await Promise.all([lb.close(), ...hosts.map((host) => host.close())])
  }
}

/**
 * Release mode, before any host leaves rotation: the release prepared on every host (it throws if
 * that fails), then migrate-command once; how the migration went, if there is one.
 */
async function prepareFleet(deps: Omit<MigrateDeps, 'clock'>) {
  const { hosts, releases, states, settings, log, signal } = deps
  const preparing = states.filter((_, i) => releases[i].from !== releases[i].to)
  await log.group(`Preparing release ${settings.release.id} while every host serves`, () =>
    journaled(preparing, 'prepare', () => prepareReleases(hosts, releases, settings, log, signal))
  )
  return migrateBeforeSwitch({ ...deps, clock: systemClock })
}

/** Release mode, after the rollout: the history kept, releases no longer needed pruned, and every host's audit line. */
async function finishReleases(
  hosts: readonly RemoteHost[],
  releases: readonly HostRelease[],
  rollout: RolloutResult,
  settings: ReleaseModeSettings,
  log: Log
) {
  const ended = { succeeded: rollout.status === 'success', outcomes: rollout.hosts.map((report) => report.outcome) }
  await closeReleases(hosts, releases, ended, settings, log)
  await auditReleases(
    hosts,
    rollout.hosts.map((report, i) => ({ ...releases[i], result: report.outcome })),
    settings,
    log
  )
}

/** Where SIGINT and SIGTERM arrive: the process. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown
  off(signal: NodeJS.Signals, listener: () => void): unknown
}

/**
 * A cancelled workflow sends SIGINT, then SIGTERM (and a person at a terminal presses Ctrl-C): each
 * means start nothing new, report, exit. Gives back a function that stops listening.
 */
export function cancelOnSignals(signals: SignalSource, log: Log, controller: AbortController): () => void {
  const listeners = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const listener = () => {
      log.warning(`Received ${signal}: finishing safely, starting no new step or host`)
      controller.abort()
    }
    signals.on(signal, listener)
    return () => signals.off(signal, listener)
  })
  return () => listeners.forEach((stop) => stop())
}

export async function run(): Promise<void> {
  const readInput: ReadInput = (name) => core.getInput(name)
  maskSecrets(readInput)
  const controller = new AbortController()
  cancelOnSignals(process, actionsLog, controller)
  try {
    await runWith({
      readInput,
      connector: (settings) => createSshConnector(settings.ssh, systemClock, actionsLog),
      runner: localRunner,
      log: actionsLog,
      writer: {
        setOutput: core.setOutput,
        writeSummary: (markdown) =>
          core.summary
            .addRaw(markdown)
            .write()
            .then(() => undefined),
        saveReport: (json) => saveReportFile(json)
      },
      signal: controller.signal,
      fail: core.setFailed
    })
  } catch (error: unknown) {
    core.setFailed(errorMessage(error))
  }
}
