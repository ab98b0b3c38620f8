// The deploy lock on real sshd hosts (each with its own home, as root): two runs at once, a run
// that waits its turn, and the lock after a run is interrupted (SIGINT) or killed (SIGKILL).
import { readFileSync, readdirSync, rmSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { connectionInputs, sshRun, startSshFleet, type SshFleet } from '../../test/fleet/ssh-hosts.js'
import { annotationsOf, runAction, type ActionRun, type RunOptions } from '../../test/run-action.js'

const asRoot = process.getuid?.() === 0
let fleet: SshFleet

beforeAll(async () => {
  if (asRoot) fleet = await startSshFleet(2)
})
afterAll(async () => fleet?.close())

/** A run `name`: each step appends `<name> <step>` to the host's log; offline takes `offlineS`. */
function inputs(name: string, offlineS = 0, overrides: Record<string, string> = {}): Record<string, string> {
  const log = (step: string) => `echo "${name} ${step}" >> "$HOST_ROOT/steps.log"`
  return {
    ...connectionInputs(fleet),
    'offline-command': `sleep ${offlineS}; ${log('offline')}`,
    'online-command': log('online'),
    'start-command': log('start'),
    'health-command': 'true',
    'offline-wait': '0s',
    'online-wait': '0s',
    ...overrides
  }
}

/** The GITHUB_* variables of run `id`, as a runner sets them. */
const githubRun = (id: number): RunOptions => ({
  env: {
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_RUN_ID: String(id),
    GITHUB_ACTOR: 'alice',
    GITHUB_SHA: 'abcdef1234567890'
  }
})
const runUrl = (id: number) => `https://github.example/acme/shop/actions/runs/${id}`

const lockHeld = () =>
  fleet.hosts.map((host) =>
    sshRun(fleet, host, 'test -d "$HOME/.rolling-deploy.lock" && echo held || echo free').trim()
  )
const steps = () =>
  fleet.hosts.flatMap((host) =>
    existsSync(join(host.root, 'steps.log'))
      ? readFileSync(join(host.root, 'steps.log'), 'utf8').trim().split('\n')
      : []
  )

function reset() {
  for (const host of fleet.hosts)
    for (const file of readdirSync(host.root)) rmSync(join(host.root, file), { recursive: true, force: true })
  for (const host of fleet.hosts) sshRun(fleet, host, 'rm -rf "$HOME/.rolling-deploy.lock"')
}

/** Starts run A (slow), resolves once it holds the lock on every host, with its run to await. */
async function startSlowRun(id: number, options: RunOptions = {}): Promise<{ running: Promise<ActionRun> }> {
  let started = false
  const running = runAction(inputs('A', 3), {
    ...githubRun(id),
    ...options,
    onStdout: (chunk) => (started ||= chunk.includes('::group::Batch 1/'))
  })
  for (const deadline = Date.now() + 20_000; !started; await pause(50))
    if (Date.now() > deadline) throw new Error('run A never started')
  return { running } // wrapped: an async function returning a promise would wait for it
}

;(asRoot ? describe : describe.skip)('the deploy lock', () => {
  it('a second run fails at once, naming the first, and touches nothing; the first finishes; a third after it succeeds', async () => {
    reset()
    const { running: a } = await startSlowRun(111)
    expect(lockHeld()).toEqual(['held', 'held'])
    const startedB = Date.now()
    const b = await runAction(inputs('B'), githubRun(222))
    expect(Date.now() - startedB).toBeLessThan(5000)
    expect(b.code).toBe(1)
    const error = annotationsOf(b.stdout).find((annotation) => annotation.level === 'error')?.message ?? ''
    expect(error).toContain(
      `the deploy lock on ${fleet.hosts[0].entry} is held by ${runUrl(111)} (actor alice, sha abcdef1`
    )
    expect(error).toContain('nothing was touched on any host')
    expect(b.outputs.result).toBe('failure')
    expect((await a).code).toBe(0)
    expect(steps().filter((line) => line.startsWith('B'))).toEqual([])
    expect(lockHeld()).toEqual(['free', 'free'])
    expect((await runAction(inputs('C'), githubRun(333))).code).toBe(0)
  })

  it('with lock-wait, a second run waits for the first, then rolls', async () => {
    reset()
    const { running: a } = await startSlowRun(111)
    const b = await runAction(inputs('B', 0, { 'lock-wait': '60s' }), githubRun(222))
    expect((await a).code).toBe(0)
    expect(b.code).toBe(0)
    expect(b.stdout).toContain('Deploy lock held on')
    for (const host of fleet.hosts) {
      const log = readFileSync(join(host.root, 'steps.log'), 'utf8').trim().split('\n')
      expect(log.findIndex((line) => line.startsWith('B'))).toBeGreaterThan(
        log.map((line) => line.startsWith('A')).lastIndexOf(true)
      )
    }
    expect(lockHeld()).toEqual(['free', 'free'])
  })

  it('a run cancelled with SIGINT gives the lock back', async () => {
    reset()
    const a = await (await startSlowRun(111, { interruptWhen: /::group::Batch 1\// })).running
    expect(a.outputs.result).toBe('cancelled')
    expect(lockHeld()).toEqual(['free', 'free'])
  })

  it('a run killed with SIGKILL leaves the lock: the next run names it and how to clear it; lock-stale-after breaks it', async () => {
    reset()
    let pid = 0
    const { running: killed } = await startSlowRun(111, { onSpawn: (spawned) => (pid = spawned) })
    process.kill(pid, 'SIGKILL')
    expect((await killed).signal).toBe('SIGKILL')
    expect(lockHeld()).toEqual(['held', 'held'])
    const refused = await runAction(inputs('B'), githubRun(222))
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain(`held by ${runUrl(111)}`)
    expect(refused.stdout).toContain(
      'A run that was killed stops beating: its lock is taken over once the beat is 60 s old (lock-stale-after); or remove it on the host (rm -rf ~/.rolling-deploy.lock)'
    )
    await pause(2100)
    const breaking = await runAction(inputs('C', 0, { 'lock-stale-after': '1s' }), githubRun(333))
    expect(breaking.code).toBe(0)
    const warnings = annotationsOf(breaking.stdout).filter((annotation) => annotation.title === 'Stale lock taken over')
    expect(warnings).toHaveLength(2)
    expect(warnings[0].message).toMatch(
      new RegExp(`took over the deploy lock of a run that stopped beating \\d+ s ago \\(it died\\): ${runUrl(111)}`)
    )
    expect(lockHeld()).toEqual(['free', 'free'])
  })
})
