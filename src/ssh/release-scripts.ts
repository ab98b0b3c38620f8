// The shell texts of release mode, built from quoted values like every remote script: the layout
// <dir>/releases/<id>/, <dir>/current (a symlink, switched atomically) and <dir>/shared/.
import { shellQuote } from './remote-scripts.js'

const releasePath = (dir: string, id: string) => `${dir}/releases/${id}`

/** The line before each value readReleaseState prints. */
export const STATE_MARKERS = { current: '__rollout_current__', release: '__rollout_release__' } as const

/**
 * What a host holds: `current`'s release, then every release, newest first (by the time its
 * directory last changed, so ids of any form order by when they were prepared).
 */
export function readReleaseState(dir: string): string {
  const d = shellQuote(dir)
  return [
    `c=$(readlink ${d}/current 2>/dev/null || true)`,
    `echo "${STATE_MARKERS.current} \${c##*/}"`,
    `if [ -d ${d}/releases ]; then cd ${d}/releases && ls -1t | while IFS= read -r r; do echo "${STATE_MARKERS.release} $r"; done; fi`
  ].join('\n')
}

/** True (exit 0) when `current` points at release `id`, written relative or absolute. */
function isCurrent(dir: string, id: string): string {
  return `{ c=$(readlink ${shellQuote(dir)}/current 2>/dev/null || true); [ "\${c##*/}" = ${shellQuote(id)} ]; }`
}

/**
 * A fresh, empty directory for release `id` (one left by an earlier run is removed first, unless
 * `current` points at it: that one is never written to), with shared/ ready.
 */
export function createRelease(dir: string, id: string): string {
  const [d, r] = [shellQuote(dir), shellQuote(releasePath(dir, id))]
  return [
    `mkdir -p ${d}/releases ${d}/shared`,
    `if ${isCurrent(dir, id)}; then echo "release ${id} is current on this host: it is never written to" >&2; exit 1; fi`,
    `rm -rf ${r}`,
    `mkdir ${r}`
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

/** Removes release `id` (a prepared release that will not be used), never the current one. */
export function removeRelease(dir: string, id: string): string {
  return `${isCurrent(dir, id)} || rm -rf ${shellQuote(releasePath(dir, id))}`
}

/** Keeps the newest `keep` releases, and always `current` and `previous`, whatever their age. */
export function pruneReleases(dir: string, keep: number, protect: readonly string[]): string {
  const cases = protect.filter(Boolean).map(shellQuote).join('|')
  return [
    `cd ${shellQuote(`${dir}/releases`)}`,
    `ls -1t | tail -n +${keep + 1} | while IFS= read -r r; do`,
    cases ? `  case "$r" in ${cases}) ;; *) rm -rf -- "$r" ;; esac` : '  rm -rf -- "$r"',
    'done'
  ].join('\n')
}

/** Appends one line (JSON) to <dir>/deploy.log. */
export function appendAuditLine(dir: string, line: string): string {
  return `printf '%s\\n' ${shellQuote(line)} >> ${shellQuote(`${dir}/deploy.log`)}`
}
