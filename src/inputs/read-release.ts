// Release mode's inputs (release-dir and what only it uses), and the inputs it excludes.
import type { InputName } from './catalog.js'
import type { InputReader } from './input-reader.js'
import { InputError, parseInteger, splitList } from './parse.js'
import type { ReleaseSettings } from './settings.js'

const SAFE_NAME = /^[A-Za-z0-9._-]+$/

export function parseReleaseId(value: string): string {
  if (!SAFE_NAME.test(value) || value === '.' || value === '..') {
    throw new InputError(
      "expected a release id of letters, digits, '.', '_' and '-' (not . or ..), e.g. 20261126T230000Z-1a2b3c4"
    )
  }
  return value
}

function parseSharedPath(value: string): string {
  const segments = value.split('/')
  if (segments.some((segment) => !SAFE_NAME.test(segment) || segment === '.' || segment === '..')) {
    throw new InputError(
      "expected a path inside a release, like .env or storage/logs (letters, digits, '.', '_', '-', '/'; no .. and no leading /)"
    )
  }
  return value
}

/** The UTC time as YYYYMMDDTHHMMSSZ, then - and the commit's first 7 characters when known. */
export function defaultReleaseId(now: Date, sha: string | undefined): string {
  const time = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return sha ? `${time}-${sha.slice(0, 7)}` : time
}

/** Inputs that belong to release mode alone, and those it replaces. */
const ONLY_WITH_RELEASE_DIR = ['release-id', 'shared-paths', 'prepare-command', 'rollback-to'] as const
const NOT_WITH_RELEASE_DIR: readonly (readonly [InputName, string])[] = [
  [
    'deploy-command',
    'the new release is prepared while the host serves (prepare-command) and switched while it is out'
  ],
  ['rollback-command', 'a failed host is switched back to its previous release'],
  ['upload-to', 'upload lands in the new release directory']
]

export function readRelease(input: InputReader): ReleaseSettings | undefined {
  const dir = input.parse('release-dir', (value) => {
    if (!value.startsWith('/') || value.includes('\n') || value.replace(/\/+$/, '') === '') {
      throw new InputError('expected an absolute directory on the host other than /, e.g. /srv/app')
    }
    return value.replace(/\/+$/, '')
  })
  const scope = input.defaulted('rollback-scope', (value) => {
    if (value !== 'host' && value !== 'fleet') throw new InputError('expected host or fleet')
    return value
  })
  const keep = input.defaulted('keep-releases', (value) => parseInteger(value, 1, 1000))
  if (input.raw('release-dir') === undefined) {
    for (const name of ONLY_WITH_RELEASE_DIR) {
      if (input.raw(name) !== undefined) input.problem(name, input.raw(name), 'needs release-dir (release mode)')
    }
    if (scope === 'fleet')
      input.problem(
        'rollback-scope',
        scope,
        'fleet needs release-dir: it switches hosts back to their previous release'
      )
    return undefined
  }
  for (const [name, why] of NOT_WITH_RELEASE_DIR) {
    if (input.raw(name) !== undefined) input.problem(name, undefined, `is not used with release-dir: ${why}`)
  }
  const rollbackTo = input.parse('rollback-to', (value) => (value === 'previous' ? value : parseReleaseId(value)))
  if (rollbackTo !== undefined) {
    for (const name of ['upload', 'prepare-command', 'release-id'] as const) {
      if (input.raw(name) !== undefined)
        input.problem(name, undefined, 'cannot be combined with rollback-to, which deploys nothing')
    }
  }
  const id =
    input.parse('release-id', parseReleaseId) ??
    (rollbackTo !== undefined && rollbackTo !== 'previous'
      ? rollbackTo
      : defaultReleaseId(new Date(), process.env.GITHUB_SHA))
  return {
    dir: dir ?? '/',
    id,
    upload: input.raw('upload'),
    sharedPaths: splitList(input.raw('shared-paths') ?? '').flatMap(
      (value) => input.attempt('shared-paths', value, () => [parseSharedPath(value)]) ?? []
    ),
    prepareCommand: input.raw('prepare-command'),
    keep,
    rollbackScope: scope,
    rollbackTo
  }
}

/** `lock` (on by default), where it lives, how long to wait for another run's, when it is stale. */
