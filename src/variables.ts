// The variables every command, probe and health-url gets about the host it is for: one list, for
// a host's run (the values) and for the inputs (a health-url is checked with sample values before
// any host is reached).
import type { Target } from './inputs/settings.js'

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
