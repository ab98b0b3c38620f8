// The release scripts of src/ssh/release-scripts.ts run by a real local sh against a scratch
// release-dir: layout, atomic switch, pruning, and the current release never written to.
import { spawnSync } from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as scripts from '../../src/ssh/release-scripts.js'

let dir: string
const sh = (script: string) => {
  const result = spawnSync('sh', ['-c', script], { timeout: 10_000 })
  return { status: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() }
}

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'rollout-release-scripts-')), "app's dir")
})
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }))

describe('release scripts', () => {
  it('create a fresh release, link shared paths (missing ones as empty directories) and switch current atomically', () => {
    expect(sh(scripts.createRelease(dir, 'r1', 'none')).status).toBe(0)
    mkdirSync(join(dir, 'releases/r1/storage'))
    writeFileSync(join(dir, 'releases/r1/storage/stale'), '')
    mkdirSync(join(dir, 'shared'), { recursive: true })
    writeFileSync(join(dir, 'shared/.env'), 'A=1\n')
    expect(sh(scripts.linkSharedPaths(dir, 'r1', ['.env', 'storage', 'var/log'])).status).toBe(0)
    expect(readFileSync(join(dir, 'releases/r1/.env'), 'utf8')).toBe('A=1\n')
    expect(readdirSync(join(dir, 'releases/r1/storage'))).toEqual([]) // the shared, empty one
    expect(readlinkSync(join(dir, 'releases/r1/var/log'))).toBe(join(dir, 'shared/var/log'))
    expect(sh(scripts.switchRelease(dir, 'r1')).status).toBe(0)
    expect(readlinkSync(join(dir, 'current'))).toBe('releases/r1')
    expect(sh(scripts.switchRelease(dir, 'nope'))).toMatchObject({
      status: 1,
      stderr: 'release nope is not on this host\n'
    })
    expect(readlinkSync(join(dir, 'current'))).toBe('releases/r1')
  })

  it('never write to, or remove, the release current points at', () => {
    sh(scripts.createRelease(dir, 'r1', 'none'))
    writeFileSync(join(dir, 'releases/r1/keep'), '')
    sh(scripts.switchRelease(dir, 'r1'))
    expect(sh(scripts.createRelease(dir, 'r1', 'none'))).toMatchObject({
      status: 1,
      stderr: 'release r1 is current on this host: it is never written to\n'
    })
    sh(scripts.removeRelease(dir, 'r1'))
    expect(readdirSync(join(dir, 'releases/r1'))).toEqual(['keep'])
    // A current link another tool wrote, absolute, is recognised too.
    rmSync(join(dir, 'current'))
    symlinkSync(join(dir, 'releases/r1'), join(dir, 'current'))
    expect(sh(scripts.createRelease(dir, 'r1', 'none')).status).toBe(1)
    sh(scripts.removeRelease(dir, 'r1'))
    expect(readdirSync(join(dir, 'releases/r1'))).toEqual(['keep'])
  })

  it('read the state: current, the releases newest first, the history (else deploy.log), the digest of the id', () => {
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      sh(scripts.createRelease(dir, id, `sha256:${id}`))
      utimesSync(join(dir, 'releases', id), 1_700_000_000 + i, 1_700_000_000 + i)
    }
    sh(scripts.switchRelease(dir, 'b'))
    const m = scripts.STATE_MARKERS
    const releases = ['c', 'b', 'a'].map((id) => `${m.release} ${id}`)
    const state = (id: string) => sh(scripts.readReleaseState(dir, id)).stdout.trim().split('\n')
    expect(state('x')).toEqual([`${m.current} b`, ...releases])
    writeFileSync(join(dir, 'deploy.log'), '{"release":"a"}\n')
    expect(state('c')).toEqual([`${m.current} b`, ...releases, `${m.audit} {"release":"a"}`, `${m.digest} sha256:c`])
    expect(sh(scripts.appendHistory(dir, ['kept a t run', "kept b t it's"])).status).toBe(0)
    expect(state('x')).toEqual([
      `${m.current} b`,
      ...releases,
      m.historyFile,
      `${m.history} kept a t run`,
      `${m.history} kept b t it's`
    ])
  })

  it('prune removes every release (and its digest) but those kept and the one current points at', () => {
    for (const id of ['a', 'b', 'c', 'd', '.e']) sh(scripts.createRelease(dir, id, 'none'))
    sh(scripts.switchRelease(dir, 'c'))
    expect(sh(scripts.pruneReleases(dir, ['a', "it's"])).status).toBe(0)
    expect(readdirSync(join(dir, 'releases')).sort()).toEqual(['a', 'c'])
    expect(readdirSync(join(dir, '.digests')).sort()).toEqual(['a', 'c'])
    sh(scripts.removeRelease(dir, 'a'))
    sh(scripts.removeRelease(dir, 'c')) // current: kept
    expect(readdirSync(join(dir, '.digests'))).toEqual(['c'])
    expect(readdirSync(join(dir, 'releases'))).toEqual(['c'])
  })

  it('append audit lines verbatim', () => {
    mkdirSync(dir, { recursive: true })
    const line = JSON.stringify({ release: "it's $(id)", result: 'succeeded' })
    sh(scripts.appendAuditLine(dir, line))
    sh(scripts.appendAuditLine(dir, line))
    expect(readFileSync(join(dir, 'deploy.log'), 'utf8')).toBe(`${line}\n${line}\n`)
  })
})
