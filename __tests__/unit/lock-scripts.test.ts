// The deploy lock's shell texts, run by a real sh in a scratch home: taken once, held for others,
// the same run's own on shared storage, taken over once its beats stopped or by a later attempt of
// the same workflow run, given back only by its holder, and never seen without its holder by
// many takers racing on one directory.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  LOCK_MARKER,
  beatLock,
  inspectLock,
  releaseLock,
  takeLock,
  type LockClaim
} from '../../src/ssh/lock-scripts.js'

let home: string
const sh = (script: string) => {
  const result = spawnSync('sh', ['-c', script], { env: { PATH: process.env.PATH, HOME: home }, timeout: 10_000 })
  return { status: result.status, lines: result.stdout.toString().trim().split('\n') }
}
const lock = () => join(home, '.rolling-deploy.lock')
const claim = (name: string, runId?: string, attempt?: number): LockClaim => ({
  holder: `{"run":"${name}","token":"token-${name}"}`,
  token: `token-${name}`,
  runId,
  attempt
})
const STALE = { staleAfterS: 60 }
/** The lock's beat (or, with no beat file, its making) `seconds` ago. */
const age = (seconds: number, file = 'beat') => {
  const then = Date.now() / 1000 - seconds
  utimesSync(file === '' ? lock() : join(lock(), file), then, then)
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "rollout-lock-home '"))
})
afterEach(() => rmSync(home, { recursive: true, force: true }))

// Ages are whole seconds: a second may tick over between making a lock and reading its age.
describe('lock scripts', () => {
  it('take the lock once; another run finds it held, with its holder; the same run finds it its own', () => {
    expect(sh(takeLock(undefined, claim('A'), STALE))).toEqual({ status: 0, lines: [`${LOCK_MARKER} taken`] })
    expect(sh(takeLock(undefined, claim('B'), STALE))).toEqual({
      status: 3,
      lines: [expect.stringMatching(new RegExp(`^${LOCK_MARKER} held [01]$`)), claim('A').holder]
    })
    expect(sh(takeLock(undefined, claim('A'), STALE)).lines).toEqual([`${LOCK_MARKER} ours`])
    expect(sh(inspectLock(undefined)).lines).toEqual([
      expect.stringMatching(new RegExp(`^${LOCK_MARKER} held [01]$`)),
      claim('A').holder
    ])
    expect(readdirSync(home)).toEqual(['.rolling-deploy.lock']) // no temporary directory left
  })

  it('give it back only for its holder, leaving nothing behind', () => {
    sh(takeLock(undefined, claim('A'), STALE))
    sh(releaseLock(undefined, 'token-B'))
    expect(existsSync(lock())).toBe(true)
    expect(sh(releaseLock(undefined, 'token-A')).status).toBe(0)
    expect(readdirSync(home)).toEqual([])
    expect(sh(inspectLock(undefined))).toEqual({ status: 0, lines: [''] })
  })

  it('take over a lock whose beats stopped past the stale time, and say whose it was; a beating one stays held', () => {
    sh(takeLock(undefined, claim('A'), STALE))
    age(3600, '') // a lock that has run an hour, beating all along: held
    age(5)
    expect(sh(takeLock(undefined, claim('B'), STALE)).lines[0]).toMatch(new RegExp(`^${LOCK_MARKER} held [56]$`))
    age(59)
    expect(sh(takeLock(undefined, claim('B'), STALE)).status).toBe(3)
    age(61)
    const taken = sh(takeLock(undefined, claim('B'), STALE))
    expect(taken.status).toBe(0)
    expect(taken.lines).toEqual([expect.stringMatching(new RegExp(`^${LOCK_MARKER} broken 6[12]$`)), claim('A').holder])
    expect(sh(inspectLock(undefined)).lines[1]).toBe(claim('B').holder)
    expect(readdirSync(home)).toEqual(['.rolling-deploy.lock'])
  })

  it('beat only on its own lock: the beat makes it young again; lost once another holds it', () => {
    sh(takeLock(undefined, claim('A'), STALE))
    age(50)
    expect(sh(beatLock(undefined, 'token-A')).lines).toEqual([`${LOCK_MARKER} beat`])
    expect(sh(inspectLock(undefined)).lines[0]).toMatch(/ held \d$/)
    expect(sh(beatLock(undefined, 'token-B')).lines).toEqual([`${LOCK_MARKER} lost`])
  })

  it('a beat dated a lease ahead (a big fleet) holds the lock for the lease and lock-stale-after more', () => {
    expect(sh(takeLock(undefined, { ...claim('A'), aheadS: 300 }, STALE)).lines).toEqual([`${LOCK_MARKER} taken`])
    const held = sh(takeLock(undefined, claim('B'), STALE))
    expect(held.status).toBe(3)
    expect(held.lines[0]).toMatch(new RegExp(`^${LOCK_MARKER} held -(299|300)$`))
    age(120) // no beat for a while: the next is dated a lease ahead again
    expect(sh(beatLock(undefined, 'token-A', 300)).lines).toEqual([`${LOCK_MARKER} beat`])
    expect(sh(inspectLock(undefined)).lines[0]).toMatch(/ held -(299|300)$/)
    age(-1) // one second of its lease left: still held, however long since the beat was made
    expect(sh(takeLock(undefined, claim('B'), STALE)).status).toBe(3)
    age(61) // the lease ran out lock-stale-after ago
    expect(sh(takeLock(undefined, claim('B'), STALE)).lines[0]).toMatch(new RegExp(`^${LOCK_MARKER} broken 6[12]$`))
  })

  it('a lock with no beat (an older version made it) is broken only past lock-stale-after', () => {
    mkdirSync(lock())
    writeFileSync(join(lock(), 'holder'), '{"run":"old"}\n')
    age(3600, '')
    expect(sh(takeLock(undefined, claim('B'), STALE)).status).toBe(3)
    expect(sh(takeLock(undefined, claim('B'), { staleAfterS: 60, noBeatStaleAfterS: 60 })).lines[0]).toMatch(
      /broken 36\d\d$/
    )
  })

  it('a later attempt of the same workflow run takes over at once; another run or an earlier attempt does not', () => {
    sh(takeLock(undefined, claim('A', '77', 1), STALE))
    expect(sh(takeLock(undefined, claim('B', '78', 2), STALE)).status).toBe(3)
    expect(sh(takeLock(undefined, claim('B'), STALE)).status).toBe(3)
    expect(sh(takeLock(undefined, claim('B', '77', 1), STALE)).status).toBe(3)
    expect(sh(takeLock(undefined, claim('B', '77', 2), STALE))).toEqual({
      status: 0,
      lines: [expect.stringMatching(new RegExp(`^${LOCK_MARKER} replaced \\d$`)), claim('A').holder]
    })
    expect(sh(takeLock(undefined, claim('C', '77', 1), STALE)).status).toBe(3)
  })

  it('use lock-path when given, quoted, in a directory that does not exist yet (a first release-dir)', () => {
    const path = join(home, 'srv', "it's here", '.lock')
    expect(sh(takeLock(path, claim('A'))).status).toBe(0)
    expect(existsSync(join(path, 'holder'))).toBe(true)
  })

  it('many takers racing on one directory (hosts sharing a home): one run holds it, no one sees it without a holder', async () => {
    const race = (name: string, takers: number) =>
      Promise.all(
        Array.from(
          { length: takers },
          () =>
            new Promise<string>((resolve) => {
              const child = spawn('sh', ['-c', takeLock(undefined, claim(name), STALE)], {
                env: { PATH: process.env.PATH, HOME: home }
              })
              let out = ''
              child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
              child.on('close', () => resolve(out))
            })
        )
      )
    const [a, b] = await Promise.all([race('A', 40), race('B', 40)])
    const states = [...a, ...b].map((out) => out.split('\n')[0].split(' ')[1])
    const winner = a.some((out) => out.includes(' taken')) ? a : b
    const loser = winner === a ? b : a
    expect(winner.map((out) => out.split('\n')[0].split(' ')[1]).sort()).toEqual([
      'ours',
      ...Array<string>(38).fill('ours'),
      'taken'
    ])
    expect(loser.every((out) => out.startsWith(`${LOCK_MARKER} held `))).toBe(true)
    expect(states.filter((state) => state === 'taken')).toHaveLength(1)
    // Every taker that found it held saw its holder.
    expect(loser.every((out) => out.split('\n')[1] === claim(winner === a ? 'A' : 'B').holder)).toBe(true)
    expect(readdirSync(home)).toEqual(['.rolling-deploy.lock'])
  })
})
