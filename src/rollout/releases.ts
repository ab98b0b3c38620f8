// Release mode's fleet-wide stages, around the rolling part: what each host holds (read at
// preflight), the new release prepared on every host while all still serve (removed from every
// host if it fails anywhere), and after the run the old releases pruned and the audit line written.
import { basename } from 'node:path'
import { statSync } from 'node:fs'
import { errorMessage } from '../errors.js'
import type { ReleaseSettings, Settings } from '../inputs/settings.js'
import { NEVER_ABORTED, type Log, type RemoteHost } from '../ports.js'
import * as scripts from '../ssh/release-scripts.js'
import { githubRun, rolloutVariables, type HostPlace } from '../variables.js'
import { failureOf, runToEnd } from './host-scripts.js'
import { placeHosts } from './plan.js'
import { mapBounded } from './preflight.js'

/** Where a host goes in this run. */
export interface HostRelease {
  /** `current`'s release before the run; undefined on a first deploy. */
  readonly from?: string
  readonly to: string
  /** The newest other release, what `previous` means to rollback-to. */
  readonly before?: string
}

/** The variables every command gets in release mode. */
function releaseVariables(release: ReleaseSettings, host: HostRelease): [string, string][] {
  return [
    ['ROLLOUT_RELEASE', host.to],
    ['ROLLOUT_RELEASE_PATH', `${release.dir}/releases/${host.to}`],
    ['ROLLOUT_PREVIOUS_RELEASE', host.from ?? '']
  ]
}

/**
 * What a host's commands and the probes for it get: its ROLLOUT_* variables, its release's in
 * release mode, then the env input.
 */
export function hostVariables(
  settings: Settings,
  place: HostPlace & { readonly release?: HostRelease }
): (readonly [string, string])[] {
  const release = settings.release && place.release ? releaseVariables(settings.release, place.release) : []
  return [...rolloutVariables(place), ...release, ...settings.env]
}

/** Settings in release mode: release-dir set. */
export type ReleaseModeSettings = Settings & { readonly release: ReleaseSettings }

export function inReleaseMode(settings: Settings): settings is ReleaseModeSettings {
  return settings.release !== undefined
}

/** Runs a release script on a host (cancelled only if `signal` is given); throws with its last output line if it fails. */
async function runScript(
  host: RemoteHost,
  script: string,
  settings: Settings,
  log: Log,
  {
    env = settings.env,
    signal = NEVER_ABORTED
  }: { env?: readonly (readonly [string, string])[]; signal?: AbortSignal } = {}
) {
  const { timeoutMs } = settings.commands
  const { result, lines } = await runToEnd(host, script, {
    env,
    timeoutMs,
    signal,
    onLine: (line) => log.info(`[${host.target.entry}] ${line}`)
  })
  const failure = failureOf(result, timeoutMs, signal)
  if (failure !== undefined) throw new Error(lines.length > 0 ? `${failure}: ${lines.at(-1)}` : failure)
}

/** Each host's current release and releases; refuses a rollback-to a host cannot honour. */
export async function readHostReleases(
  hosts: readonly RemoteHost[],
  settings: ReleaseModeSettings,
  log: Log
): Promise<HostRelease[]> {
  const { release } = settings
  const states = await mapBounded(hosts, async (host) => {
    const { result, lines } = await runToEnd(host, scripts.readReleaseState(release.dir), {
      timeoutMs: settings.commands.timeoutMs
    })
    if (result.code !== 0)
      throw new Error(`${host.target.entry}: cannot read ${release.dir}: ${lines.at(-1) ?? `exit code ${result.code}`}`)
    const value = (marker: string) =>
      lines.filter((line) => line.startsWith(`${marker} `)).map((line) => line.slice(marker.length + 1))
    const current = value(scripts.STATE_MARKERS.current)[0] || undefined
    const releases = value(scripts.STATE_MARKERS.release)
    return { current, releases, before: releases.find((id) => id !== current) }
  })
  const missing: string[] = []
  const plans = states.map(({ current, releases, before }, i) => {
    const to = release.rollbackTo === 'previous' ? before : (release.rollbackTo ?? release.id)
    if (release.rollbackTo !== undefined && (to === undefined || !releases.includes(to))) {
      missing.push(
        `${hosts[i].target.entry} (${to === undefined ? 'no release before the current one' : `has ${releases.join(', ') || 'no release'}`})`
      )
    }
    return { from: current, to: to ?? '', before }
  })
  if (missing.length > 0) {
    throw new Error(`rollback-to ${release.rollbackTo}: not on every host, nothing was changed: ${missing.join('; ')}`)
  }
  log.info(plans.map((plan, i) => `${hosts[i].target.entry}: ${plan.from ?? '(none)'} → ${plan.to}`).join('\n'))
  return plans
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
      await runScript(host, scripts.createRelease(release.dir, release.id), settings, log)
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
  await mapBounded(toPrepare, ({ host }) =>
    runScript(host, scripts.removeRelease(release.dir, release.id), settings, log).catch((error: unknown) =>
      log.warning(`${host.target.entry}: release ${release.id} could not be removed: ${errorMessage(error)}`)
    )
  )
  const removed = 'no host left rotation, and the release was removed from every host'
  if (signal.aborted) throw new Error(`cancelled while preparing release ${release.id}; ${removed}`)
  throw new Error(
    `preparing release ${release.id} failed on ${failures.length} host(s); ${removed}:\n${failures.map((f) => `- ${f}`).join('\n')}`
  )
}

/** After a successful run: the old releases pruned on every host (a failure is only a warning). */
export async function pruneReleases(
  hosts: readonly RemoteHost[],
  plans: readonly HostRelease[],
  settings: ReleaseModeSettings,
  log: Log
) {
  const { release } = settings
  await mapBounded(hosts, (host, i) =>
    runScript(
      host,
      scripts.pruneReleases(release.dir, release.keep, [plans[i].to, plans[i].from ?? '']),
      settings,
      log
    ).catch((error: unknown) =>
      log.warning(`${host.target.entry}: old releases not removed: ${errorMessage(error)}`, 'Releases kept')
    )
  )
}

/** One JSON line per host in <release-dir>/deploy.log: who rolled what, when, and how it ended. */
export async function auditReleases(
  hosts: readonly RemoteHost[],
  entries: readonly { from?: string; to: string; result: string }[],
  settings: ReleaseModeSettings,
  log: Log
) {
  const { release } = settings
  const { runUrl, actor, sha } = githubRun()
  await mapBounded(hosts, (host, i) => {
    const { from, to, result } = entries[i]
    const line = JSON.stringify({
      time: new Date().toISOString(),
      release: to,
      previousRelease: from ?? null,
      result,
      runUrl,
      actor,
      sha
    })
    return runScript(host, scripts.appendAuditLine(release.dir, line), settings, log).catch((error: unknown) =>
      log.warning(`${host.target.entry}: deploy.log not written: ${errorMessage(error)}`)
    )
  })
}
