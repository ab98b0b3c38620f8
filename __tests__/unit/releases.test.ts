// The release stages and the release-mode host run, with scripted hosts: which release each host
// goes to, what a failed preparation undoes, resume, and the fleet rollback's order. The real
// thing, on real hosts under traffic, is fleet/release-mode.test.ts.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { runBatches } from '../../src/rollout/batches.js'
import {
  inReleaseMode,
  prepareReleases,
  readHostReleases,
  type ReleaseModeSettings
} from '../../src/rollout/releases.js'
import { STATE_MARKERS } from '../../src/ssh/release-scripts.js'
import { closeReleases } from '../../src/rollout/release-records.js'
import { previousRelease, releaseHistory, releasesToKeep } from '../../src/rollout/release-history.js'
import { NEVER_ABORTED } from '../../src/ports.js'
import {
  FakeClock,
  fakeRolloutDeps,
  FakeRunner,
  RecordingLog,
  fakeFleet,
  settingsWith,
  type FakeHost,
  withLb
} from '../../test/fakes/fakes.js'

function releaseInputs(overrides: Record<string, string> = {}): ReleaseModeSettings {
  const settings = settingsWith({
    'release-dir': '/srv/app',
    'release-id': 'r2',
    'prepare-command': 'npm ci',
    ...overrides
  })
  if (!inReleaseMode(settings)) throw new Error('release-dir is set: release mode')
  return settings
}

/**
 * Hosts whose release-dir holds `current` and `releases` (newest first), and, per host if given as
 * a function, the lines of its history file and the digest recorded for the run's release.
 */
function hostsWith(
  settings: ReturnType<typeof settingsWith>,
  current: string,
  releases: string[],
  held: (index: number) => { history?: string[]; digest?: string } = () => ({})
) {
  const clock = new FakeClock()
  const hosts = fakeFleet(settings, clock)
  const m = STATE_MARKERS
  for (const [i, host] of hosts.entries()) {
    const { history, digest } = held(i)
    host.reply = (command) =>
      command.includes(m.current)
        ? {
            lines: [
              `${m.current} ${current}`,
              ...releases.map((id) => `${m.release} ${id}`),
              ...(history ? [m.historyFile, ...history.map((line) => `${m.history} ${line}`)] : []),
              ...(digest ? [`${m.digest} ${digest}`] : [])
            ]
          }
        : {}
  }
  return { clock, hosts }
}

const kept = (...ids: string[]) => ids.map((id) => `kept ${id} 2026-11-29T00:00:00.000Z run`)

describe('readHostReleases', () => {
  it('plans each host from its current release to the run’s; a host with no history falls back once, and says so', async () => {
    const settings = releaseInputs()
    const { hosts } = hostsWith(settings, 'r1', ['r1', 'r0'])
    const log = new RecordingLog()
    const plans = await readHostReleases(hosts, settings, log)
    expect(plans.map(({ from, to, digest }) => ({ from, to, digest }))).toEqual(
      hosts.map(() => ({ from: 'r1', to: 'r2', digest: 'none' }))
    )
    expect(plans[0].history).toEqual({ kept: ['r0', 'r1'], source: 'directory times' })
    expect(log.lines).toContain(
      'deploy@h1: no release history yet (an earlier version deployed it): read once from directory times'
    )
  })

  it('rollback-to previous goes to the release kept before current, never one a failed run left prepared', async () => {
    const settings = releaseInputs({ 'prepare-command': '', 'release-id': '', 'rollback-to': 'previous' })
    // r3 was rejected by its canary: the newest directory, but never kept.
    const { hosts } = hostsWith(settings, 'r2', ['r3', 'r2', 'r1'], () => ({ history: kept('r1', 'r2') }))
    expect((await readHostReleases(hosts, settings, new RecordingLog())).map(({ from, to }) => [from, to])).toEqual(
      hosts.map(() => ['r2', 'r1'])
    )
    await expect(
      readHostReleases(hostsWith(settings, 'r2', ['r2']).hosts, settings, new RecordingLog())
    ).rejects.toThrow(
      /rollback-to previous: not on every host, nothing was changed: deploy@h1 \(no release before the current one\)/
    )
  })

  it('a re-run of an unfinished rollback-to previous goes on to the target it recorded, never back', async () => {
    const settings = releaseInputs({ 'prepare-command': '', 'release-id': '', 'rollback-to': 'previous' })
    const pending = [...kept('r0', 'r1', 'r2'), 'rollback-to r1 2026-11-29T00:00:00.000Z run']
    // Host 1 went back to r1 before the run died; the others are still on r2.
    const one = hostsWith(settings, 'r1', ['r2', 'r1', 'r0'], () => ({ history: pending }))
    const rest = hostsWith(settings, 'r2', ['r2', 'r1', 'r0'], () => ({ history: pending }))
    const log = new RecordingLog()
    const [first] = await readHostReleases(one.hosts, settings, log)
    const [second] = await readHostReleases(rest.hosts, settings, log)
    expect([first.from, first.to, second.from, second.to]).toEqual(['r1', 'r1', 'r2', 'r1'])
    expect(log.lines).toContain('deploy@h1: an unfinished rollback-to previous chose r1: going on to it')
    // Finished (a kept line after it), the next rollback-to previous chooses afresh.
    const done = hostsWith(settings, 'r1', ['r2', 'r1', 'r0'], () => ({ history: [...pending, ...kept('r1')] }))
    expect((await readHostReleases(done.hosts, settings, new RecordingLog()))[0].to).toBe('r0')
  })

  it('refuses a release id a host holds with other content, naming both digests; the same content is a re-run', async () => {
    const settings = releaseInputs({ upload: 'package.json' })
    const ours = `sha256:${createHash('sha256').update(readFileSync('package.json')).digest('hex')}`
    const other = 'sha256:' + 'a'.repeat(64)
    const { hosts } = hostsWith(settings, 'r1', ['r2', 'r1'], (i) => ({ digest: i === 2 ? other : ours }))
    await expect(readHostReleases(hosts, settings, new RecordingLog())).rejects.toThrow(
      `release-id r2 is already used for other content, nothing was changed (a release id names one content: choose a new one): deploy@h3 holds it uploaded as ${other}, this run uploads ${ours}`
    )
    expect(hosts[2].commands).toHaveLength(1) // the read, nothing else
    const same = hostsWith(settings, 'r1', ['r2', 'r1'], () => ({ digest: ours }))
    expect((await readHostReleases(same.hosts, settings, new RecordingLog()))[0].digest).toBe(ours)
  })
})

describe('prepareReleases', () => {
  it('prepares only hosts not on the release yet, and removes the release everywhere when one fails', async () => {
    const settings = releaseInputs()
    const { hosts } = hostsWith(settings, 'r1', ['r1'])
    const plans = hosts.map((_, i) => ({ from: i === 0 ? 'r2' : 'r1', to: 'r2' }))
    hosts[2].reply = (command) => (command.includes('npm ci') ? { code: 1, lines: ['no space left'] } : {})
    let prepareEnv: readonly (readonly [string, string])[] = []
    hosts[1].reply = (command) => {
      if (command.includes('npm ci')) prepareEnv = hosts[1].lastEnv
      return {}
    }
    await expect(prepareReleases(hosts, plans, settings, new RecordingLog(), NEVER_ABORTED)).rejects.toThrow(
      /preparing release r2 failed on 1 host\(s\); no host left rotation, and the release was removed from every host:\n- deploy@h3: exited with code 1: no space left/
    )
    expect(hosts[0].commands).toEqual([]) // already on r2: never written to
    for (const host of hosts.slice(1)) expect(host.commands.at(-1)).toMatch(/rm -rf '\/srv\/app\/releases\/r2'/)
    // prepare-command runs in the release directory, with the host's variables.
    expect(hosts[1].commands.find((command) => command.includes('npm ci'))).toBe("cd '/srv/app/releases/r2'\nnpm ci")
    expect(new Map(prepareEnv).get('ROLLOUT_RELEASE_PATH')).toBe('/srv/app/releases/r2')
    expect(new Map(prepareEnv).get('ROLLOUT_INDEX')).toBe('2')
  })

  it('a cancellation ends the prepare-commands, and the release is removed from every host', async () => {
    const settings = releaseInputs()
    const { hosts } = hostsWith(settings, 'r1', ['r1'])
    const controller = new AbortController()
    hosts[1].onExec = (command) => command.includes('npm ci') && controller.abort() // Ctrl-C during host 2's prepare
    const plans = hosts.map(() => ({ from: 'r1', to: 'r2' }))
    await expect(prepareReleases(hosts, plans, settings, new RecordingLog(), controller.signal)).rejects.toThrow(
      'cancelled while preparing release r2; no host left rotation, and the release was removed from every host'
    )
    // Host 1 had prepared; hosts 3 and 4 started nothing new after the cancellation (all four run
    // in parallel here, so they had created theirs): every release directory is gone.
    for (const host of hosts) expect(host.commands.at(-1)).toMatch(/rm -rf '\/srv\/app\/releases\/r2'/)
  })
})

describe('runBatches in release mode', () => {
  const roll = (settings: ReturnType<typeof settingsWith>, hosts: FakeHost[], clock: FakeClock, from: string[]) =>
    runBatches(fakeRolloutDeps(settings, hosts, clock, { releases: from.map((id) => ({ from: id, to: 'r2' })) }))

  it('leaves a healthy host already on the release unchanged, and switches the others while out', async () => {
    const settings = releaseInputs()
    const { clock, hosts } = hostsWith(settings, 'r1', [])
    const result = await roll(settings, hosts, clock, ['r2', 'r1', 'r1', 'r1'])
    expect(result.hosts.map((host) => host.outcome)).toEqual(['unchanged', 'succeeded', 'succeeded', 'succeeded'])
    expect(hosts[0].commands).toEqual([])
    expect(result.hosts[1].timeline.map((step) => step.name)).toEqual([
      'offline',
      'offline-wait',
      'stop',
      'switch',
      'start',
      'health',
      'online',
      'online-wait'
    ])
    expect(hosts[1].commands.find((command) => command.includes('mv -T'))).toContain("ln -sfn 'releases/r2'")
    expect(result.release).toBe('r2')
  })

  it('rollback-scope fleet: after host 3 fails, hosts 2 then 1 go back, through the LB steps', async () => {
    const settings = releaseInputs({ 'rollback-scope': 'fleet' })
    const { clock, hosts } = hostsWith(settings, 'r1', [])
    hosts[2].reply = (command) => (command === 'appctl start' ? { code: 1 } : {})
    const order: string[] = []
    hosts.forEach(
      (host) => (host.onExec = (command) => command.includes("'releases/r1'") && order.push(host.target.entry))
    )
    const result = await roll(settings, hosts, clock, ['r1', 'r1', 'r1', 'r1'])
    expect(result.status).toBe('failure')
    expect(result.hosts.map((host) => [host.outcome, host.rotation])).toEqual([
      ['rolled-back', 'in'],
      ['rolled-back', 'in'],
      ['failed', 'out'], // its own switch back runs, but start keeps failing
      ['skipped', 'in']
    ])
    expect(order).toEqual(['deploy@h3', 'deploy@h2', 'deploy@h1'])
    expect(result.hosts[0].timeline.map((step) => step.name).slice(-8)).toEqual([
      'offline',
      'offline-wait',
      'rollback-stop',
      'rollback-switch',
      'rollback-start',
      'rollback-health',
      'restore-online',
      'online-wait'
    ])
  })

  it('rollback-scope fleet: a host whose rollback fails at offline is put back in rotation, on the new release', async () => {
    const settings = releaseInputs({
      'rollback-scope': 'fleet',
      'health-file': '',
      'offline-command': 'lb-out',
      'online-command': 'lb-in'
    })
    const { clock, hosts } = hostsWith(settings, 'r1', [])
    hosts[1].reply = (command) => (command === 'appctl start' ? { code: 1 } : {})
    // Host 1's second offline (the fleet rollback's) fails: its release never changes.
    const inner = hosts[0].reply
    hosts[0].reply = (command, calls) => (command === 'lb-out' && calls === 1 ? { code: 2 } : inner(command, calls))
    const result = await roll(settings, hosts, clock, ['r1', 'r1', 'r1', 'r1'])
    expect(result.hosts[0]).toMatchObject({
      outcome: 'failed',
      rotation: 'in',
      failedStep: 'offline',
      error: 'the fleet rollback failed: exited with code 2; it still serves the new release'
    })
    expect(hosts[0].commands.filter((command) => command === 'lb-in')).toHaveLength(2) // its run, then put back
    expect(hosts[0].commands.some((command) => command.includes("'releases/r1'"))).toBe(false)
  })
})

describe('the release history around a run', () => {
  const pruneOf = (host: FakeHost) => host.commands.find((command) => command.includes('ls -1A |')) ?? ''

  it('a rollback-to previous records each target, and a host without history its seed, before any host changes', async () => {
    const settings = releaseInputs({ 'prepare-command': '', 'release-id': '', 'rollback-to': 'previous' })
    const { hosts } = hostsWith(settings, 'r2', ['r2', 'r1'], (i) => (i === 0 ? {} : { history: kept('r1', 'r2') }))
    const plans = await readHostReleases(hosts, settings, new RecordingLog())
    await prepareReleases(hosts, plans, settings, new RecordingLog(), NEVER_ABORTED)
    expect(hosts[0].commands.at(-1)).toMatch(
      /^printf '%s\\n' 'kept r1 \S+ seeded-from-directory-times' 'kept r2 \S+ seeded-from-directory-times' 'rollback-to r1 \S+ -' >> '\/srv\/app\/.history'$/
    )
    expect(hosts[1].commands.at(-1)).toMatch(/^printf '%s\\n' 'rollback-to r1 \S+ -' >> '\/srv\/app\/.history'$/)
    hosts[3].reply = () => ({ code: 1, lines: ['read-only file system'] })
    await expect(prepareReleases(hosts, plans, settings, new RecordingLog(), NEVER_ABORTED)).rejects.toThrow(
      'the release history could not be written, nothing was changed: deploy@h4: exited with code 1: read-only file system'
    )
  })

  it('a run that succeeded records what each host kept, then prunes by the history; a failed one removes its release', async () => {
    const settings = releaseInputs({ 'keep-releases': '2' })
    const { hosts } = hostsWith(settings, 'r1', ['r2', 'r1', 'r0'], () => ({ history: kept('q', 'r0', 'r1') }))
    const plans = await readHostReleases(hosts, settings, new RecordingLog())
    const outcomes = ['succeeded', 'unchanged', 'succeeded', 'succeeded'] as const
    await closeReleases(hosts, plans, { succeeded: true, outcomes }, settings, new RecordingLog())
    expect(hosts[0].commands.at(-2)).toMatch(/^printf '%s\\n' 'kept r2 \S+ -' >> '\/srv\/app\/.history'$/)
    expect(pruneOf(hosts[0])).toContain(`case "$r" in 'r1'|'r2'|"$c") ;;`)
    // Failed: nothing recorded; r2 kept only where it may be current (the script keeps current, whatever it is).
    const failed = hostsWith(settings, 'r1', ['r2', 'r1', 'r0'], () => ({ history: kept('q', 'r0', 'r1') })).hosts
    const failedOutcomes = ['rolled-back', 'failed', 'skipped', 'cancelled'] as const
    await closeReleases(failed, plans, { succeeded: false, outcomes: failedOutcomes }, settings, new RecordingLog())
    expect(failed[0].commands).toHaveLength(1)
    expect(failed.map(pruneOf).map((script) => /case "\$r" in (\S+)\)/.exec(script)?.[1])).toEqual([
      `'r0'|'r1'|"$c"`,
      `'r0'|'r1'|"$c"`,
      `'r0'|'r1'|"$c"`,
      `'r0'|'r1'|"$c"`
    ])
  })
})

describe('releaseHistory without a history file (a host an earlier version deployed)', () => {
  const audit = (release: string, result: string) => JSON.stringify({ release, result })

  it("goes by deploy.log's kept releases, after those it never names, and never keeps one it says failed", () => {
    const state = {
      current: 'v2',
      releases: ['v3', 'v2', 'hand', 'v1', 'next'],
      auditLines: [audit('v1', 'succeeded'), audit('v2', 'succeeded'), audit('v3', 'rolled-back'), 'not json']
    }
    const history = releaseHistory(state, 'next')
    expect(history).toEqual({ kept: ['hand', 'v1', 'v2'], source: 'deploy.log' })
    expect(previousRelease(history, 'v2')).toBe('v1')
    expect(releasesToKeep(history.kept, 1, ['v2'])).toEqual(['v2', 'v1'])
  })

  it('without deploy.log either: directory times, current last', () => {
    const history = releaseHistory({ current: 'a', releases: ['c', 'b', 'a'], auditLines: [] }, 'x')
    expect(history).toEqual({ kept: ['b', 'c', 'a'], source: 'directory times' })
    expect(previousRelease(history, 'a')).toBe('c')
    expect(previousRelease({ kept: ['a', 'b'], source: 'history' }, 'never-kept')).toBe('b')
    expect(previousRelease({ kept: ['a', 'b'], source: 'history' }, 'a')).toBeUndefined()
  })
})

describe("the fleet rollback's brake", () => {
  /** rollback-scope fleet from r1 to r2; host 4 fails its start, and its own rollback's start too: it stays out. */
  function fleetRollback(overrides: Record<string, string> = {}, probe: (host: string) => number = () => 0) {
    const settings = releaseInputs({ 'rollback-scope': 'fleet', ...overrides })
    const { clock, hosts } = hostsWith(settings, 'r1', [])
    hosts[3].reply = (command) => (command === 'appctl start' ? { code: 1 } : {})
    const controller = new AbortController()
    const runner = new FakeRunner(clock, (_command, _calls, env) => probe(env.get('ROLLOUT_HOST') ?? ''))
    const run = () =>
      runBatches(
        withLb({
          settings,
          hosts,
          runner,
          clock,
          log: new RecordingLog(),
          signal: controller.signal,
          releases: hosts.map(() => ({ from: 'r1', to: 'r2' }))
        })
      )
    return { hosts, controller, run }
  }
  const wentBack = (host: FakeHost) => host.commands.some((command) => command.includes("'releases/r1'"))

  it('a host whose rollback fails stops it: the next host never leaves rotation', async () => {
    const { hosts, run } = fleetRollback()
    hosts[2].reply = (command, calls) => (command === 'appctl start' && calls === 1 ? { code: 1 } : {})
    const result = await run()
    expect(result.hosts.map((host) => [host.outcome, host.rotation])).toEqual([
      ['succeeded', 'in'],
      ['succeeded', 'in'],
      ['failed', 'out'],
      ['failed', 'out']
    ])
    expect(hosts.slice(0, 2).map(wentBack)).toEqual([false, false])
    expect(hosts[1].commands.filter((command) => command.startsWith('rm -f'))).toHaveLength(1) // its deploy's offline only
    expect(result.stoppedBecause).toContain(
      'the fleet rollback stopped (the rollback of deploy@h3 failed); still on the new release: deploy@h2, deploy@h1'
    )
  })

  it('the capacity floor holds: a rollback batch that would leave too few in rotation is not taken out', async () => {
    const { hosts, run } = fleetRollback({ 'min-in-rotation': '3', 'online-probe': 'lb-says-in' }, (host) =>
      host === 'h4' && hosts[3].commands.length > 0 ? 1 : 0
    )
    const result = await run()
    expect(result.status).toBe('failure')
    expect(hosts.slice(0, 3).map(wentBack)).toEqual([false, false, false])
    expect(result.hosts.map((host) => host.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed'])
    expect(result.stoppedBecause).toMatch(
      /^the fleet rollback stopped \(taking batch 1 \(deploy@h3\) out would leave fewer than min-in-rotation \(3\) hosts in rotation.*out: deploy@h4\); still on the new release: deploy@h3, deploy@h2, deploy@h1$/
    )
  })

  it('a cancel finishes the host in flight, then stops, and says what is left', async () => {
    const { hosts, controller, run } = fleetRollback()
    hosts[2].onExec = (command) => command.includes("'releases/r1'") && controller.abort()
    const result = await run()
    expect(result.status).toBe('cancelled')
    expect(result.hosts[2]).toMatchObject({ outcome: 'rolled-back', rotation: 'in' })
    expect(hosts[2].commands.at(-1)).toBe("touch '/srv/status/nginx-status.html'") // back online, not left half done
    expect(hosts.slice(0, 2).map(wentBack)).toEqual([false, false])
    expect(result.stoppedBecause).toBe(
      'the fleet rollback stopped (the run was cancelled); still on the new release: deploy@h2, deploy@h1'
    )
  })
})
