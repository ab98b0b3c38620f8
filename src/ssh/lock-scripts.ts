// The deploy lock's shell texts: a directory made with one atomic `mkdir`, holding a `holder`
// file (JSON: the run's URL, actor, sha, start time and a token only this run knows).
import { shellQuote } from './remote-scripts.js'

/** The first line a lock script prints: what it found. */
export const LOCK_MARKER = '__rollout_lock__'

/** The lock's path in sh: as given, or in the login user's home. */
const lockPath = (path: string | undefined) => (path === undefined ? '"$HOME/.rolling-deploy.lock"' : shellQuote(path))

/**
 * Takes the lock: prints `taken`, `ours` (this run holds it already: storage shared between
 * hosts), `broken AGE` (an older holder's, past `staleAfterS`, removed and taken) or `held AGE`
 * (exit 3), each followed by the holder file it found. AGE is in seconds.
 */
export function takeLock(path: string | undefined, holder: string, token: string, staleAfterS?: number): string {
  const l = lockPath(path)
  const take = `mkdir ${l} 2>/dev/null && printf '%s\\n' ${shellQuote(holder)} > ${l}/holder`
  return [
    // A first deploy's release-dir may not exist yet.
    `mkdir -p "$(dirname ${l})" 2>/dev/null || true`,
    `if ${take}; then echo "${LOCK_MARKER} taken"; exit 0; fi`,
    `if grep -qF ${shellQuote(token)} ${l}/holder 2>/dev/null; then echo "${LOCK_MARKER} ours"; exit 0; fi`,
    `age=$(( $(date +%s) - $(stat -c %Y ${l} 2>/dev/null || date +%s) ))`,
    ...(staleAfterS === undefined
      ? []
      : [
          `if [ "$age" -gt ${staleAfterS} ]; then old=$(cat ${l}/holder 2>/dev/null); rm -rf ${l}`,
          `  if ${take}; then echo "${LOCK_MARKER} broken $age"; printf '%s\\n' "$old"; exit 0; fi`,
          'fi'
        ]),
    `echo "${LOCK_MARKER} held $age"; cat ${l}/holder 2>/dev/null; exit 3`
  ].join('\n')
}

/** Gives the lock back, if this run (its token) holds it; prints `held` when it finds one (a dry run's look). */
export function releaseLock(path: string | undefined, token: string): string {
  const l = lockPath(path)
  return `if grep -qF ${shellQuote(token)} ${l}/holder 2>/dev/null; then rm -rf ${l}; fi`
}

/** A dry run's look: `held AGE` and the holder, or nothing. */
export function inspectLock(path: string | undefined): string {
  const l = lockPath(path)
  return `if [ -d ${l} ]; then echo "${LOCK_MARKER} held $(( $(date +%s) - $(stat -c %Y ${l} 2>/dev/null || date +%s) ))"; cat ${l}/holder 2>/dev/null; fi; true`
}

/** How a user clears a lock that a killed run left. */
export function clearLockHint(path: string | undefined): string {
  return `rm -rf ${path === undefined ? '~/.rolling-deploy.lock' : shellQuote(path)}`
}
