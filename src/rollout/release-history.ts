// A host's release history, read from what the host holds: the releases that became `current`
// there and were kept, oldest first, in <release-dir>/.history, an append-only file of lines
// `<event> <release> <time> <run>`:
//   kept <id>         a run that succeeded left the host on <id>; a release already in the list
//                     cuts it back to <id> (a rollback undoes what came after)
//   rollback-to <id>  a rollback-to previous chose <id> for this host before any host changed; until
//                     a `kept` line follows, a re-run goes on to <id> instead of choosing again
//   migrated <id>     migrate-command passed for <id> on this host (migrate: once skips it again)
// `previous` comes from this record, never from directory times: a release that was prepared but
// whose run failed (a rejected canary, a cancelled run) is never kept, so never `previous`.

export interface ReleaseHistory {
  /** Oldest first; the newest kept release last. */
  readonly kept: readonly string[]
  /**
   * The history file; for a host deployed by a version of this action that kept none, deploy.log
   * or else directory times.
   */
  readonly source: 'history' | 'deploy.log' | 'directory times'
  /** The target of a rollback-to previous that did not finish on this host. */
  readonly pendingRollback?: string
}

/** Where a host goes in this run (release mode), as read from it before the run. */
export interface HostRelease {
  /** `current`'s release before the run; undefined on a first deploy. */
  readonly from?: string
  readonly to: string
  /** The host's release history as read before the run (what `previous` and pruning go by). */
  readonly history?: ReleaseHistory
  /** What this run uploads into `to`: `sha256:<hex>`, or `none`; undefined for a rollback-to. */
  readonly digest?: string
  /** When and by which run migrate-command passed for `to` on this host, if it did. */
  readonly migrated?: { readonly at: string; readonly run: string }
}

/** `kept` once release `id` became current and was kept: a release already in it cuts it back. */
function keptAfter(kept: readonly string[], id: string): string[] {
  const at = kept.indexOf(id)
  return at === -1 ? [...kept, id] : kept.slice(0, at + 1)
}

/** The history file's lines, replayed. */
function fromHistoryFile(lines: readonly string[]): ReleaseHistory {
  let kept: string[] = []
  let pendingRollback: string | undefined
  for (const [event, id] of lines.map((line) => line.split(' '))) {
    if (!id) continue
    if (event === 'kept') [kept, pendingRollback] = [keptAfter(kept, id), undefined]
    else if (event === 'rollback-to') pendingRollback = id
  }
  return { kept, source: 'history', pendingRollback }
}

/**
 * The releases deploy.log (the audit log, JSON lines, that every version of this action appends)
 * says a host kept, and every one it names.
 */
function fromAuditLines(lines: readonly string[]): { kept: string[]; named: Set<string> } {
  let kept: string[] = []
  const named = new Set<string>()
  for (const line of lines) {
    let entry: { release?: unknown; result?: unknown }
    try {
      entry = JSON.parse(line) as typeof entry
    } catch {
      continue
    }
    if (typeof entry.release !== 'string') continue
    named.add(entry.release)
    if (entry.result === 'succeeded' || entry.result === 'unchanged') kept = keptAfter(kept, entry.release)
  }
  return { kept, named }
}

/** What a host holds, as read at preflight (readReleaseState's lines, parsed). */
export interface HostReleaseState {
  readonly current?: string
  /** Release directories, newest first. */
  readonly releases: readonly string[]
  /** The history file's lines; undefined when the host has none. */
  readonly historyLines?: readonly string[]
  /** deploy.log's last lines (read only without a history file). */
  readonly auditLines: readonly string[]
}

/**
 * The host's history. Without a history file (a host deployed by a version of this action that
 * kept none), once: the releases deploy.log says were kept, after the releases on the host it
 * never names (oldest first by directory time), and `current` last; `release` (this run's) only if current, since an earlier
 * run may have left it prepared and unused.
 */
export function releaseHistory(state: HostReleaseState, release: string): ReleaseHistory {
  if (state.historyLines !== undefined) return fromHistoryFile(state.historyLines)
  const { current } = state
  const onDisk = state.releases.filter((id) => id !== release || id === current)
  const audit = fromAuditLines(state.auditLines)
  const unnamed = onDisk.filter((id) => !audit.named.has(id)).reverse()
  const older = [...unnamed, ...audit.kept.filter((id) => onDisk.includes(id))].filter((id) => id !== current)
  return {
    kept: current === undefined ? older : [...older, current],
    source: audit.named.size > 0 ? 'deploy.log' : 'directory times'
  }
}

/** The release that was current before `current`: the one before it, or the newest kept if it never was. */
export function previousRelease(history: ReleaseHistory, current: string | undefined): string | undefined {
  const at = current === undefined ? -1 : history.kept.indexOf(current)
  return at === -1 ? history.kept.at(-1) : history.kept[at - 1]
}

/**
 * The releases a host keeps after a run: the newest `keep` kept ones, and the one before each
 * release that may be current (`current` itself the script never removes, whatever it is).
 */
export function releasesToKeep(kept: readonly string[], keep: number, mayBeCurrent: readonly string[]): string[] {
  const history: ReleaseHistory = { kept, source: 'history' }
  const before = mayBeCurrent.flatMap((id) => previousRelease(history, id) ?? [])
  return [...new Set([...kept.slice(-keep), ...mayBeCurrent.filter((id) => kept.includes(id)), ...before])]
}

/** The kept list once release `id` became current and was kept. */
export function keptWith(history: ReleaseHistory, id: string): string[] {
  return keptAfter(history.kept, id)
}

/** A line of the history file. */
export function historyLine(event: 'kept' | 'rollback-to' | 'migrated', id: string, time: Date, run: string): string {
  return [event, id, time.toISOString(), run.replace(/\s/g, '') || '-'].join(' ')
}

/** The lines that start a history file from what was read without one (nothing when there was one). */
export function seedLines(history: ReleaseHistory, time: Date): string[] {
  if (history.source === 'history') return []
  return history.kept.map((id) => historyLine('kept', id, time, `seeded-from-${history.source.replace(' ', '-')}`))
}

/** The last `migrated <id>` line of a history file: when, and by which run, the migration of `id` passed there. */
export function migratedAt(lines: readonly string[] | undefined, id: string): HostRelease['migrated'] {
  const line = [...(lines ?? [])].reverse().find((text) => text.startsWith(`migrated ${id} `))
  if (line === undefined) return undefined
  const [, , at = '', run = '-'] = line.split(' ')
  return { at, run }
}
