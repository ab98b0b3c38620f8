// Release mode's fleet-wide stages, around the rolling part: what each host holds (read at
// preflight), the new release prepared on every host while all still serve (removed from every
// host if it fails anywhere), and after the run the old releases pruned and the audit line written.
import { basename } from 'node:path'
import { statSync } from 'node:fs'
import { errorMessage } from '../errors.js'
import type { ReleaseSettings, Settings } from '../inputs/settings.js'
import type { Log, RemoteHost } from '../ports.js'
import * as scripts from '../ssh/release-scripts.js'
import { githubRun, hostVariables } from '../variables.js'
import { uploadDigest } from '../runner/upload-digest.js'
import {
  historyLine,
  migratedAt,
  previousRelease,
  releaseHistory,
  seedLines,
  type HostRelease,
  type HostReleaseState
} from './release-history.js'
import { placeHosts } from './placement.js'
import { runScript, runToEnd } from './run-on-host.js'
import { connectedFirst, mapBounded } from './preflight.js'
import { hostLines } from './host-lines.js'

/** Settings in release mode: release-dir set. */
export type ReleaseModeSettings = Settings & { readonly release: ReleaseSettings }

export function inReleaseMode(settings: Settings): settings is ReleaseModeSettings {
  return settings.release !== undefined
}

/** What a host holds: its current release, its releases, its history's (or deploy.log's) lines, the run's id's digest. */
async function readHostState(host: RemoteHost, settings: ReleaseModeSettings) {
  const { dir, id } = settings.release
  const { result, lines } = await runToEnd(host, scripts.readReleaseState(dir, id), {
    timeoutMs: settings.commands.timeoutMs
  })
  if (result.code !== 0)
    throw new Error(`${host.target.entry}: cannot read ${dir}: ${lines.at(-1) ?? `exit code ${result.code}`}`)
  const values = (marker: string) =>
    lines.filter((line) => line.startsWith(`${marker} `)).map((line) => line.slice(marker.length + 1))
  const m = scripts.STATE_MARKERS
  const state: HostReleaseState = {
    current: values(m.current)[0] || undefined,
    releases: values(m.release),
    historyLines: lines.includes(m.historyFile) ? values(m.history) : undefined,
    auditLines: values(m.audit)
  }
  return { state, history: releaseHistory(state, id), digest: values(m.digest)[0] }
}

/**
 * Each host's current release, history and where it goes; refuses, before any host changes, a
 * rollback-to a host cannot honour and a release id re-used for other content. rollback-to
 * previous goes on to the target an unfinished one recorded, so a re-run never flips hosts back.
 */
export async function readHostReleases(
  hosts: readonly RemoteHost[],
  settings: ReleaseModeSettings,
  log: Log
): Promise<HostRelease[]> {
  const { release } = settings
  const deploys = release.rollbackTo === undefined
  const digest = !deploys ? undefined : release.upload === undefined ? 'none' : await uploadDigest(release.upload)
  const states = await mapBounded(hosts, (host) => readHostState(host, settings), connectedFirst(hosts))
  const [missing, reused]: string[][] = [[], []]
  const plans = states.map(({ state, history, digest: held }, i) => {
    const entry = hosts[i].target.entry
    if (history.source !== 'history')
      log.info(`${entry}: no release history yet (an earlier version deployed it): read once from ${history.source}`)
    const previous = history.pendingRollback ?? previousRelease(history, state.current)
    if (release.rollbackTo === 'previous' && history.pendingRollback !== undefined)
      log.info(`${entry}: an unfinished rollback-to previous chose ${previous}: going on to it`)
    const to = release.rollbackTo === 'previous' ? previous : release.id
    if (!deploys && (to === undefined || !state.releases.includes(to))) {
      const has = state.releases.join(', ') || 'no release'
      missing.push(`${entry} (${to === undefined ? 'no release before the current one' : `has ${has}`})`)
    }
    if (digest !== undefined && held !== undefined && held !== digest)
      reused.push(`${entry} holds it uploaded as ${held}, this run uploads ${digest}`)
    return { from: state.current, to: to ?? '', history, digest, migrated: migratedAt(state.historyLines, to ?? '') }
  })
  if (missing.length > 0) {
    throw new Error(`rollback-to ${release.rollbackTo}: not on every host, nothing was changed: ${missing.join('; ')}`)
  }
  if (reused.length > 0) {
    throw new Error(
      `release-id ${release.id} is already used for other content, nothing was changed (a release id names one content: choose a new one): ${reused.join('; ')}`
    )
  }
  log.info(
    hostLines(
      hosts.map((host) => host.target.entry),
      plans.map((plan) => `${plan.from ?? '(none)'} → ${plan.to}`)
    )
  )
  return plans
}

/**
 * Before any host changes: each history started from what was read where there was none, and a
 * rollback-to previous's target recorded on every host, so a re-run of it goes the same way.
 */
async function recordHistory(
  hosts: readonly RemoteHost[],
  plans: readonly HostRelease[],
  settings: ReleaseModeSettings,
  log: Log
): Promise<void> {
  const time = new Date()
  const run = githubRun().runUrl ?? ''
  const failures: string[] = []
  await mapBounded(
    hosts,
    async (host, i) => {
      const { history, to } = plans[i]
      const lines = [
        ...(history ? seedLines(history, time) : []),
        ...(settings.release.rollbackTo === 'previous' ? [historyLine('rollback-to', to, time, run)] : [])
      ]
      if (lines.length === 0) return
      await runScript(host, scripts.appendHistory(settings.release.dir, lines), settings, log).catch((error: unknown) =>
        failures.push(`${host.target.entry}: ${errorMessage(error)}`)
      )
    },
    connectedFirst(hosts)
  )
  if (failures.length > 0)
    throw new Error(`the release history could not be written, nothing was changed: ${failures.join('; ')}`)
}

/** Lands the upload in the new release directory: an archive unpacked, a directory's contents, a file as is. */
async function uploadRelease(host: RemoteHost, release: ReleaseSettings): Promise<void> {
  const from = release.upload
  if (from === undefined) return
  const dir = `${release.dir}/releases/${release.id}`
  if (statSync(from).isDirectory()) return host.upload(from, dir)
  if (/\.(tar\.gz|tgz)$/.test(from)) return host.unpack(from, dir)
  await host.upload(from, `${dir}/${basename(from)}`)
}

/** What the run says once it removed the prepared release: the fleet is as it was. */
export const RELEASE_REMOVED = 'no host left rotation, and the release was removed from every host'

/** The prepared release removed from `hosts` (never a current one): the run that prepared it will not use it. */
export async function removePrepared(
  hosts: readonly RemoteHost[],
  settings: ReleaseModeSettings,
  log: Log
): Promise<void> {
  const { dir, id } = settings.release
  await mapBounded(
    hosts,
    (host) =>
      runScript(host, scripts.removeRelease(dir, id), settings, log).catch((error: unknown) =>
        log.warning(`${host.target.entry}: release ${id} could not be removed: ${errorMessage(error)}`)
      ),
    connectedFirst(hosts)
  )
}

/**
 * Prepares the new release on every host that is not on it yet, in parallel and while every host
 * serves: a fresh directory, the upload, the shared paths, then prepare-command in it. If any host
 * fails, or the run is cancelled (which ends a prepare-command), the release is removed from every
 * host and the run ends with nothing else touched.
 */
export async function prepareReleases(
  hosts: readonly RemoteHost[],
  plans: readonly HostRelease[],
  settings: ReleaseModeSettings,
  log: Log,
  signal: AbortSignal
): Promise<void> {
  const { release } = settings
  await recordHistory(hosts, plans, settings, log)
  if (release.rollbackTo !== undefined) return
  // Each host with its place in the rollout, so prepare-command gets the variables its commands will.
  const toPrepare = placeHosts(hosts, plans, settings.batches.size)
    .flat()
    .filter(({ release: plan }) => plan !== undefined && plan.from !== plan.to)
  const failures: string[] = []
  await mapBounded(toPrepare, async (placed) => {
    const { host } = placed
    if (signal.aborted) return
    try {
      await runScript(
        host,
        scripts.createRelease(release.dir, release.id, placed.release?.digest ?? 'none'),
        settings,
        log
      )
      await uploadRelease(host, release)
      await runScript(host, scripts.linkSharedPaths(release.dir, release.id, release.sharedPaths), settings, log)
      if (release.prepareCommand !== undefined) {
        const prepare = scripts.inRelease(release.dir, release.id, release.prepareCommand)
        await runScript(host, prepare, settings, log, { env: hostVariables(settings, placed), signal })
      }
    } catch (error: unknown) {
      failures.push(`${host.target.entry}: ${errorMessage(error)}`)
    }
  })
  if (failures.length === 0 && !signal.aborted) return
  await removePrepared(
    toPrepare.map(({ host }) => host),
    settings,
    log
  )
  if (signal.aborted) throw new Error(`cancelled while preparing release ${release.id}; ${RELEASE_REMOVED}`)
  throw new Error(
    `preparing release ${release.id} failed on ${failures.length} host(s); ${RELEASE_REMOVED}:\n${failures.map((f) => `- ${f}`).join('\n')}`
  )
}
