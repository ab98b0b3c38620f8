// The ROLLOUT_* variables every command, probe, health-url and analysis-command gets, built here
// and nowhere else: a host's (its place, its release in release mode), the bake's, and sample
// values for checking a health-url before any host is reached. The env input follows them.
import type { Settings, Target } from './inputs/settings.js'
import type { HostRelease } from './rollout/release-history.js'

type Variables = (readonly [string, string])[]

/** Where a host is in the rollout. */
export interface HostPlace {
  readonly target: Target
  readonly batch: number
  /** 1-based position in `hosts`. */
  readonly index: number
}

export function rolloutVariables({ target, batch, index }: HostPlace): [string, string][] {
  return [
    ['ROLLOUT_HOST', target.host],
    ['ROLLOUT_PORT', String(target.port)],
    ['ROLLOUT_USER', target.user],
    ['ROLLOUT_TARGET', target.entry],
    ['ROLLOUT_BATCH', String(batch)],
    ['ROLLOUT_INDEX', String(index)]
  ]
}

/** The variables with values of the right form, for checking a template before any host is reached. */
export const SAMPLE_VARIABLES: ReadonlyMap<string, string> = new Map(
  rolloutVariables({
    target: { host: '127.0.0.1', port: 22, user: 'deploy', entry: '127.0.0.1' },
    batch: 1,
    index: 1
  })
)

/**
 * What a host's commands and the probes for it get: its ROLLOUT_* variables, its release's in
 * release mode, then the env input.
 */
export function hostVariables(settings: Settings, place: HostPlace & { readonly release?: HostRelease }): Variables {
  const dir = settings.release?.dir
  const { release } = place
  const releaseVariables: Variables =
    dir !== undefined && release
      ? [
          ['ROLLOUT_RELEASE', release.to],
          ['ROLLOUT_RELEASE_PATH', `${dir}/releases/${release.to}`],
          ['ROLLOUT_PREVIOUS_RELEASE', release.from ?? '']
        ]
      : []
  return [...rolloutVariables(place), ...releaseVariables, ...settings.env]
}

/**
 * What analysis-command gets after batch `batch`: the batch, the hosts now on the new release
 * (`updated`, their entries), the release in release mode, then the env input.
 */
export function bakeVariables(settings: Settings, batch: number, updated: readonly string[]): Variables {
  return [
    ['ROLLOUT_BATCH', String(batch)],
    ['ROLLOUT_UPDATED_HOSTS', updated.join(' ')],
    ...(settings.release ? [['ROLLOUT_RELEASE', settings.release.id] as const] : []),
    ...settings.env
  ]
}

export interface GithubRun {
  readonly runUrl?: string
  readonly actor?: string
  readonly sha?: string
  /** The workflow run; a re-run keeps it and counts `attempt` up. */
  readonly runId?: string
  readonly attempt?: number
}

/** The run, as GitHub Actions names it (when its variables are set): for the audit log, the lock's holder, the journal. */
export function githubRun(env: NodeJS.ProcessEnv = process.env): GithubRun {
  const {
    GITHUB_SERVER_URL: server,
    GITHUB_REPOSITORY: repo,
    GITHUB_RUN_ID: run,
    GITHUB_RUN_ATTEMPT: attempt,
    GITHUB_ACTOR: actor,
    GITHUB_SHA: sha
  } = env
  return {
    runUrl: server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined,
    actor,
    sha,
    runId: run && /^\d+$/.test(run) ? run : undefined,
    attempt: attempt && /^\d+$/.test(attempt) ? Number(attempt) : run ? 1 : undefined
  }
}
