// The deploy lock's shell texts. The lock is a directory holding a `holder` file (JSON: the run's
// URL, actor, sha, start time and a token only this run knows), a `run` file (the workflow run's
// id and attempt) and a `beat` file the holder touches while it lives (a lease). It is made whole
// under a temporary name and renamed into place in one step, so a host that shares the storage
// (an NFS home) never sees a lock without its holder; it is given back the same way, renamed away
// before it is removed.
import { shellQuote } from './remote-scripts.js'

/** The first line a lock script prints: what it found. */
export const LOCK_MARKER = '__rollout_lock__'

/** The lock's path in sh: as given, or in the login user's home. */
export const lockPath = (path: string | undefined) =>
  path === undefined ? '"$HOME/.rolling-deploy.lock"' : shellQuote(path)

/** Who takes the lock: what the holder file says, the token, and the workflow run (id and attempt) if any. */
export interface LockClaim {
  readonly holder: string
  readonly token: string
  readonly runId?: string
  readonly attempt?: number
  /** Seconds ahead of now its beat is dated (a lease: leaseAhead). */
  readonly aheadS?: number
}

/** When another's lock may be taken over: beats older than `staleAfterS`; a lock with no beat only past `noBeatStaleAfterS`. */
export interface Staleness {
  readonly staleAfterS: number
  readonly noBeatStaleAfterS?: number
}

/**
 * Dates the beat file `aheadS` seconds ahead of now: another run reads the lock as beaten until
 * then, and as dead only lock-stale-after past it. Where touch cannot date it (no `-d @SECONDS`),
 * the beat is dated now, which is what a lock without a lease has.
 */
const leaseAhead = (file: string, aheadS: number) =>
  aheadS > 0 ? `touch -d "@$(( $(date +%s) + ${aheadS} ))" ${file} 2>/dev/null || touch ${file}` : `touch ${file}`

/** Seconds since the lock's last beat (its making, for a lock with no beat file) in `age`. */
const ageLines = (l: string) => [
  `b=$(stat -c %Y ${l}/beat 2>/dev/null || stat -c %Y ${l} 2>/dev/null || date +%s)`,
  'age=$(( $(date +%s) - b ))'
]

/**
 * Takes the lock: prints `taken`, `ours` (this run holds it already: storage shared between
 * hosts), `replaced AGE` (an earlier attempt of the same workflow run held it: it has ended),
 * `broken AGE` (another's whose beats stopped), or `held AGE` (exit 3), each followed by the
 * holder file it found. AGE is in seconds since its last beat (negative while a lease dated ahead runs).
 */
export function takeLock(path: string | undefined, claim: LockClaim, staleness?: Staleness): string {
  const l = lockPath(path)
  const run = `${claim.runId ?? ''} ${claim.attempt ?? 0}`
  const overdue = staleness && [
    `if [ -e ${l}/beat ]; then [ "$age" -gt ${staleness.staleAfterS} ]`,
    staleness.noBeatStaleAfterS === undefined ? 'else false' : `else [ "$age" -gt ${staleness.noBeatStaleAfterS} ]`,
    'fi'
  ]
  return [
    // A first deploy's release-dir may not exist yet.
    `mkdir -p "$(dirname ${l})" 2>/dev/null || true`,
    // Made whole aside (mktemp: unique even among hosts sharing the directory), then renamed into
    // place: a rename fails on a directory that is there and not empty.
    'take() {',
    `  t=$(mktemp -d ${l}.new.XXXXXX) || return 1`,
    `  printf '%s\\n' ${shellQuote(claim.holder)} > "$t/holder" && printf '%s\\n' ${shellQuote(run)} > "$t/run" &&`,
    `    ${leaseAhead('"$t/beat"', claim.aheadS ?? 0)} && mv -T "$t" ${l} 2>/dev/null && return 0`,
    '  rm -rf "$t"; return 1',
    '}',
    // Another's lock out of the way, atomically; back in place if it changed since it was judged.
    'evict() {',
    `  g=${l}.gone.$$; mv -T ${l} "$g" 2>/dev/null || return 1`,
    `  if [ "$(cat "$g/holder" 2>/dev/null)" = "$old" ]; then rm -rf "$g"; return 0; fi`,
    `  mv -T "$g" ${l} 2>/dev/null || rm -rf "$g"; return 1`,
    '}',
    `if take; then echo "${LOCK_MARKER} taken"; exit 0; fi`,
    `if grep -qF ${shellQuote(claim.token)} ${l}/holder 2>/dev/null; then echo "${LOCK_MARKER} ours"; exit 0; fi`,
    `old=$(cat ${l}/holder 2>/dev/null); read -r rid att < ${l}/run 2>/dev/null || rid=''`,
    ...ageLines(l),
    claim.runId === undefined
      ? 'state=held'
      : `if [ "$rid" = ${shellQuote(claim.runId)} ] && [ "\${att:-0}" -lt ${claim.attempt ?? 0} ]; then state=replaced; else state=held; fi`,
    ...(overdue ? ['if [ $state = held ] && {', ...overdue, '}; then state=broken; fi'] : []),
    `if [ $state != held ] && evict && take; then echo "${LOCK_MARKER} $state $age"; printf '%s\\n' "$old"; exit 0; fi`,
    `echo "${LOCK_MARKER} held $age"; cat ${l}/holder 2>/dev/null; exit 3`
  ].join('\n')
}

/**
 * The holder's beat, dated `aheadS` ahead of now (leaseAhead): prints `beat` while this run holds
 * the lock, `lost` once it does not.
 */
export function beatLock(path: string | undefined, token: string, aheadS = 0): string {
  const l = lockPath(path)
  return `if grep -qF ${shellQuote(token)} ${l}/holder 2>/dev/null && { ${leaseAhead(`${l}/beat`, aheadS)}; }; then echo "${LOCK_MARKER} beat"; else echo "${LOCK_MARKER} lost"; fi`
}

/** Gives the lock back, if this run (its token) holds it: renamed away first, so no one sees it half removed. */
export function releaseLock(path: string | undefined, token: string): string {
  const l = lockPath(path)
  return `if grep -qF ${shellQuote(token)} ${l}/holder 2>/dev/null; then g=${l}.gone.$$; mv -T ${l} "$g" && rm -rf "$g"; fi; true`
}

/** A dry run's look: `held AGE` (since its last beat) and the holder, or nothing. */
export function inspectLock(path: string | undefined): string {
  const l = lockPath(path)
  return [
    `if [ -d ${l} ]; then`,
    ...ageLines(l),
    `echo "${LOCK_MARKER} held $age"; cat ${l}/holder 2>/dev/null; fi; true`
  ].join('\n')
}

/** How a user clears a lock that a killed run left. */
export function clearLockHint(path: string | undefined): string {
  return `rm -rf ${path === undefined ? '~/.rolling-deploy.lock' : shellQuote(path)}`
}
