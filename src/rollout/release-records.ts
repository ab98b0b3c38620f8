// Release mode, after the rollout, on every host whatever the run's result: the history told
// which release the host kept (a run that succeeded), the releases it no longer needs removed
// (one a failed run prepared among them), and the audit line written to deploy.log.
import { errorMessage } from '../errors.js'
import type { Log, RemoteHost } from '../ports.js'
import * as scripts from '../ssh/release-scripts.js'
import { githubRun } from '../variables.js'
import type { HostOutcome } from './host-run.js'
import { connectedFirst, mapBounded } from './preflight.js'
import { historyLine, keptWith, releasesToKeep, type HostRelease } from './release-history.js'
import type { ReleaseModeSettings } from './releases.js'
import { runScript } from './run-on-host.js'

/** The releases that may be `current` once a host's run ended so. */
function mayBeCurrent(outcome: HostOutcome, { from, to }: HostRelease): string[] {
  if (outcome === 'succeeded' || outcome === 'unchanged') return [to]
  if (outcome === 'rolled-back' || outcome === 'skipped') return from === undefined ? [] : [from]
  return from === undefined ? [to] : [from, to]
}

/**
 * After every run: a run that succeeded records on each host that it kept its release; then each
 * host keeps keep-releases releases of its history, the one before whichever may be current, and
 * current itself: a release no run completed is removed. A failure is only a warning.
 */
export async function closeReleases(
  hosts: readonly RemoteHost[],
  plans: readonly HostRelease[],
  ended: { readonly succeeded: boolean; readonly outcomes: readonly HostOutcome[] },
  settings: ReleaseModeSettings,
  log: Log
): Promise<void> {
  const { release } = settings
  const time = new Date()
  const run = githubRun().runUrl ?? ''
  await mapBounded(
    hosts,
    async (host, i) => {
      const plan = plans[i]
      const history = plan.history ?? { kept: [], source: 'history' }
      const kept = ended.succeeded ? keptWith(history, plan.to) : history.kept
      const keep = releasesToKeep(kept, release.keep, mayBeCurrent(ended.outcomes[i], plan))
      try {
        if (ended.succeeded)
          await runScript(
            host,
            scripts.appendHistory(release.dir, [historyLine('kept', plan.to, time, run)]),
            settings,
            log
          )
        await runScript(host, scripts.pruneReleases(release.dir, keep), settings, log)
      } catch (error: unknown) {
        log.warning(`${host.target.entry}: release history or pruning: ${errorMessage(error)}`, 'Releases kept')
      }
    },
    connectedFirst(hosts)
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
  await mapBounded(
    hosts,
    (host, i) => {
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
    },
    connectedFirst(hosts)
  )
}
