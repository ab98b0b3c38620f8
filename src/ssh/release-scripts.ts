// The shell texts of release mode, built from quoted values like every remote script: the layout
// <dir>/releases/<id>/, <dir>/current (a symlink, switched atomically) and <dir>/shared/.
import { shellQuote } from './remote-scripts.js'

const releasePath = (dir: string, id: string) => `${dir}/releases/${id}`

/** Where the digest of what release `id`'s upload held is kept: outside the release, which is the app's. */
const digestPath = (dir: string, id: string) => shellQuote(`${dir}/.digests/${id}`)

/** The line before each value readReleaseState prints. */
export const STATE_MARKERS = {
  current: '__rollout_current__',
  release: '__rollout_release__',
  historyFile: '__rollout_history_file__',
  history: '__rollout_history__',
  audit: '__rollout_audit__',
  digest: '__rollout_digest__'
} as const

/** How many lines of the history (or, without one, of deploy.log) are read: years of daily deploys. */
const HISTORY_LINES = 2000

/**
 * What a host holds: `current`'s release; every release, newest first by directory time (what
 * a host without a history file falls back on); the history file's lines, or without one
 * deploy.log's; the digest recorded for release `id`, if the host has it.
 */
export function readReleaseState(dir: string, id: string): string {
  const d = shellQuote(dir)
  const m = STATE_MARKERS
  return [
    `c=$(readlink ${d}/current 2>/dev/null || true)`,
    `echo "${m.current} \${c##*/}"`,
    `if [ -d ${d}/releases ]; then (cd ${d}/releases && ls -1At | sed 's/^/${m.release} /'); fi`,
    `if [ -f ${d}/.history ]; then echo ${m.historyFile}; tail -n ${HISTORY_LINES} ${d}/.history | sed 's/^/${m.history} /'`,
    `elif [ -f ${d}/deploy.log ]; then tail -n ${HISTORY_LINES} ${d}/deploy.log | sed 's/^/${m.audit} /'; fi`,
    `if [ -f ${digestPath(dir, id)} ]; then echo "${m.digest} $(cat ${digestPath(dir, id)})"; fi`
  ].join('\n')
}

/** True (exit 0) when `current` points at release `id`, written relative or absolute. */
function isCurrent(dir: string, id: string): string {
  return `{ c=$(readlink ${shellQuote(dir)}/current 2>/dev/null || true); [ "\${c##*/}" = ${shellQuote(id)} ]; }`
}

/**
 * A fresh, empty directory for release `id` (one left by an earlier run is removed first, unless
 * `current` points at it: that one is never written to), with shared/ ready, and the digest of
 * what will be uploaded into it recorded.
 */
export function createRelease(dir: string, id: string, digest: string): string {
  const [d, r] = [shellQuote(dir), shellQuote(releasePath(dir, id))]
  return [
    `mkdir -p ${d}/releases ${d}/shared ${d}/.digests`,
    `if ${isCurrent(dir, id)}; then echo "release ${id} is current on this host: it is never written to" >&2; exit 1; fi`,
    `rm -rf ${r}`,
    `mkdir ${r}`,
    `printf '%s\\n' ${shellQuote(digest)} > ${digestPath(dir, id)}`
  ].join('\n')
}

/**
 * Links each shared path into the release: shared/<path> (created as an empty directory when
 * missing; a shared file has to be put there first), replacing whatever the release held there.
 */
export function linkSharedPaths(dir: string, id: string, paths: readonly string[]): string {
  return paths
    .map((path) => {
      const [shared, inRelease] = [shellQuote(`${dir}/shared/${path}`), shellQuote(`${releasePath(dir, id)}/${path}`)]
      return [
        `[ -e ${shared} ] || mkdir -p ${shared}`,
        `mkdir -p "$(dirname ${inRelease})"`,
        `rm -rf ${inRelease}`,
        `ln -s ${shared} ${inRelease}`
      ].join('\n')
    })
    .join('\n')
}

/** `command` run in the release's directory. */
export function inRelease(dir: string, id: string, command: string): string {
  return `cd ${shellQuote(releasePath(dir, id))}\n${command}`
}

/**
 * Points `current` at release `id` in one step: a new link, renamed over the old one (never `rm`
 * then `ln`, which leaves a moment with no `current`). The link is relative, so it resolves the
 * same from any view of the directory.
 */
export function switchRelease(dir: string, id: string): string {
  const target = shellQuote(`releases/${id}`)
  return [
    `cd ${shellQuote(dir)}`,
    `[ -d ${target} ] || { echo "release ${id} is not on this host" >&2; exit 1; }`,
    `ln -sfn ${target} .current.$$`,
    'mv -T .current.$$ current'
  ].join('\n')
}

/** Removes release `id` (a prepared release that will not be used) and its digest, never the current one. */
export function removeRelease(dir: string, id: string): string {
  return `${isCurrent(dir, id)} || rm -rf ${shellQuote(releasePath(dir, id))} ${digestPath(dir, id)}`
}

/** Removes every release but those in `keep` and the one `current` points at, whatever it is, with their digests. */
export function pruneReleases(dir: string, keep: readonly string[]): string {
  const cases = [...keep.map(shellQuote), '"$c"'].join('|')
  return [
    `c=$(readlink ${shellQuote(dir)}/current 2>/dev/null || true); c=\${c##*/}`,
    `cd ${shellQuote(`${dir}/releases`)} || exit 0`,
    'ls -1A | while IFS= read -r r; do',
    `  case "$r" in ${cases}) ;; *) rm -rf -- "$r" "../.digests/$r" ;; esac`,
    'done'
  ].join('\n')
}

/** Appends `lines` to <dir>/.history, the release history (release-history.ts reads it). */
export function appendHistory(dir: string, lines: readonly string[]): string {
  return `printf '%s\\n' ${lines.map(shellQuote).join(' ')} >> ${shellQuote(`${dir}/.history`)}`
}

/** Appends one line (JSON) to <dir>/deploy.log. */
export function appendAuditLine(dir: string, line: string): string {
  return `printf '%s\\n' ${shellQuote(line)} >> ${shellQuote(`${dir}/deploy.log`)}`
}
