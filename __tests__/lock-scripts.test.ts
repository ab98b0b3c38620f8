// The deploy lock's shell texts, run by a real sh in a scratch home: taken once, held for others,
// the same run's own on shared storage, broken when stale, given back only by its holder.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { LOCK_MARKER, inspectLock, releaseLock, takeLock } from '../src/ssh/lock-scripts.js'

let home: string
const sh = (script: string) => {
  const result = spawnSync('sh', ['-c', script], { env: { PATH: process.env.PATH, HOME: home }, timeout: 10_000 })
  return { status: result.status, lines: result.stdout.toString().trim().split('\n') }
}
const lock = () => join(home, '.rolling-deploy.lock')

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "rollout-lock-home '"))
})
afterEach(() => rmSync(home, { recursive: true, force: true }))

describe('lock scripts', () => {
  it('take the lock once; another run finds it held, with its holder; the same run finds it its own', () => {
    const holderA = '{"run":"A","token":"token-a"}'
    expect(sh(takeLock(undefined, holderA, 'token-a'))).toEqual({ status: 0, lines: [`${LOCK_MARKER} taken`] })
    expect(sh(takeLock(undefined, '{"run":"B"}', 'token-b'))).toEqual({
      status: 3,
      lines: [`${LOCK_MARKER} held 0`, holderA]
    })
    expect(sh(takeLock(undefined, holderA, 'token-a')).lines).toEqual([`${LOCK_MARKER} ours`])
    expect(sh(inspectLock(undefined)).lines).toEqual([`${LOCK_MARKER} held 0`, holderA])
  })

  it('give it back only for its holder', () => {
    sh(takeLock(undefined, '{"run":"A","token":"token-a"}', 'token-a'))
    sh(releaseLock(undefined, 'token-b'))
    expect(existsSync(lock())).toBe(true)
    sh(releaseLock(undefined, 'token-a'))
    expect(existsSync(lock())).toBe(false)
    expect(sh(inspectLock(undefined))).toEqual({ status: 0, lines: [''] })
  })

  it('break a lock older than lock-stale-after, and say whose it was; a younger one stays held', () => {
    sh(takeLock(undefined, '{"run":"A"}', 'token-a'))
    expect(sh(takeLock(undefined, '{"run":"B"}', 'token-b', 60)).status).toBe(3)
    const hourAgo = Date.now() / 1000 - 3600
    utimesSync(lock(), hourAgo, hourAgo)
    const broken = sh(takeLock(undefined, '{"run":"B"}', 'token-b', 60))
    expect(broken.status).toBe(0)
    expect(broken.lines[0]).toMatch(new RegExp(`^${LOCK_MARKER} broken 36\\d\\d$`))
    expect(broken.lines[1]).toBe('{"run":"A"}')
    expect(sh(inspectLock(undefined)).lines[1]).toBe('{"run":"B"}')
  })

  it('use lock-path when given, quoted, in a directory that does not exist yet (a first release-dir)', () => {
    const path = join(home, 'srv', "it's here", '.lock')
    expect(sh(takeLock(path, '{}', 't')).status).toBe(0)
    expect(existsSync(path)).toBe(true)
  })
})
