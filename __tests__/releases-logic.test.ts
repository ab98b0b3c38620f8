// The release stages and the release-mode host run, with scripted hosts: which release each host
// goes to, what a failed preparation undoes, resume, and the fleet rollback's order. The real
// thing, on real hosts under traffic, is releases.test.ts.
import { describe, expect, it } from '@jest/globals'
import { runBatches } from '../src/rollout/batches.js'
import { inReleaseMode, prepareReleases, readHostReleases, type ReleaseModeSettings } from '../src/rollout/releases.js'
import { STATE_MARKERS } from '../src/ssh/release-scripts.js'
import { NEVER_ABORTED } from '../src/ports.js'
import { FakeClock, FakeRunner, RecordingLog, fakeFleet, settingsWith, type FakeHost } from '../__fixtures__/fakes.js'

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

/** Hosts whose release-dir holds `current` and `releases` (newest first). */
function hostsWith(settings: ReturnType<typeof settingsWith>, current: string, releases: string[]) {
  const clock = new FakeClock()
  const hosts = fakeFleet(settings, clock)
  for (const host of hosts) {
    host.reply = (command) =>
      command.includes(STATE_MARKERS.current)
        ? { lines: [`${STATE_MARKERS.current} ${current}`, ...releases.map((id) => `${STATE_MARKERS.release} ${id}`)] }
        : {}
  }
  return { clock, hosts }
}

describe('readHostReleases', () => {
  it('plans each host from its current release to the run’s', async () => {
    const settings = releaseInputs()
    const { hosts } = hostsWith(settings, 'r1', ['r1', 'r0'])
    expect(await readHostReleases(hosts, settings, new RecordingLog())).toEqual(
      hosts.map(() => ({ from: 'r1', to: 'r2', before: 'r0' }))
    )
  })

  it('rollback-to previous goes to the newest other release, and is refused where there is none', async () => {
    const settings = releaseInputs({ 'prepare-command': '', 'release-id': '', 'rollback-to': 'previous' })
    expect(
      (await readHostReleases(hostsWith(settings, 'r2', ['r2', 'r1']).hosts, settings, new RecordingLog()))[0]
    ).toEqual({
      from: 'r2',
      to: 'r1',
      before: 'r1'
    })
    await expect(
      readHostReleases(hostsWith(settings, 'r2', ['r2']).hosts, settings, new RecordingLog())
    ).rejects.toThrow(
      /rollback-to previous: not on every host, nothing was changed: deploy@h1 \(no release before the current one\)/
    )
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
    runBatches({
      settings,
      hosts,
      runner: new FakeRunner(clock),
      clock,
      log: new RecordingLog(),
      signal: new AbortController().signal,
      releases: from.map((id) => ({ from: id, to: 'r2' }))
    })

  it('leaves a healthy host already on the release unchanged, and switches the others while out', async () => {
    const settings = releaseInputs()
    const { clock, hosts } = hostsWith(settings, 'r1', [])
    const result = await roll(settings, hosts, clock, ['r2', 'r1', 'r1', 'r1'])
    expect(result.hosts.map((host) => host.outcome)).toEqual(['unchanged', 'succeeded', 'succeeded', 'succeeded'])
    expect(hosts[0].commands).toEqual([])
    expect(result.hosts[1].phases.map((phase) => phase.name)).toEqual([
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
    expect(result.hosts[0].phases.map((phase) => phase.name).slice(-8)).toEqual([
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
      failedPhase: 'offline',
      error: 'the fleet rollback failed: exited with code 2; it still serves the new release'
    })
    expect(hosts[0].commands.filter((command) => command === 'lb-in')).toHaveLength(2) // its run, then put back
    expect(hosts[0].commands.some((command) => command.includes("'releases/r1'"))).toBe(false)
  })
})
