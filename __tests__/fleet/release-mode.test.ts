// Release mode on the real fleet (sshd + nginx + app per host, HAProxy in front, live traffic):
// releases prepared while every host serves, switched while out, rolled back, resumed, pruned.
// Each host's sshd has its own mount namespace, so release-dir is one path with per-host contents.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { asRoot, expectNoUserVisibleErrors, expectSucceeded, withFleet } from '../../test/fleet-suite.js'
import type { Fleet } from '../../test/fleet/fleet.js'
import { releaseModeInputs } from '../../test/fleet/release-inputs.js'
import { rollUnderTraffic, type Observed } from '../../test/fleet/observe.js'
import { HOST_VIEW, sshRun, type SshHost } from '../../test/fleet/ssh-hosts.js'
import { runAction } from '../../test/run-action.js'

let fleet: Fleet
let scratch: string
withFleet(4, 'rollout-releases-', (started, dir) => ((fleet = started), (scratch = dir)))

/** Release-mode inputs: `id` carries VERSION `id`; a host with a `break-<id>` file refuses to start release <id>. */
const releaseInputs = (id: string, overrides: Record<string, string> = {}) =>
  releaseModeInputs(fleet, scratch, id, overrides)

const currentOf = (host: SshHost) => sshRun(fleet.ssh, host, `readlink ${HOST_VIEW}/current`).trim().split('/').pop()
const releasesOn = (host: SshHost) => readdirSync(join(host.root, 'releases')).sort()
const appPid = (host: SshHost) => readFileSync(join(host.root, 'app.pid'), 'utf8').trim()
const reportOf = (observed: Observed) => JSON.parse(observed.run.outputs.report) as Record<string, unknown>[]

async function resetFleet() {
  await fleet.reset()
  for (const host of fleet.hosts)
    for (const file of readdirSync(host.root).filter((f) => f.startsWith('break-'))) rmSync(join(host.root, file))
}

;(asRoot ? describe : describe.skip)('release mode on 4 hosts behind HAProxy', () => {
  it('gives each host its own view of release-dir and home (a file on one is not on another)', () => {
    const [one, two] = fleet.hosts
    sshRun(fleet.ssh, one, `echo one > ${HOST_VIEW}/only-here; echo one > "$HOME/only-here"`)
    expect(sshRun(fleet.ssh, one, `cat ${HOST_VIEW}/only-here "$HOME/only-here"`)).toBe('one\none\n')
    expect(sshRun(fleet.ssh, two, `ls ${HOST_VIEW}/only-here "$HOME/only-here" 2>/dev/null | wc -l`).trim()).toBe('0')
  })

  it('prepares on every host before any leaves rotation, and keeps the prepare out of the window', async () => {
    await resetFleet()
    const timed = (prepare: string | undefined, id: string) =>
      rollUnderTraffic(
        fleet,
        releaseInputs(id, {
          ...(prepare ? { 'prepare-command': prepare } : {}),
          'offline-command': `date +%s%N > "$HOST_ROOT/offline-at"; rm -f "$HOST_ROOT/status/nginx-status.html"`
        })
      )
    const plain = await timed(undefined, 'r1')
    const prepared = await timed('sleep 3; date +%s%N > prepared-at', 'r2')
    for (const observed of [plain, prepared]) {
      expect(observed.run.code).toBe(0)
      expectNoUserVisibleErrors(observed)
      expect(observed.maxOutOfRotation).toBe(1)
    }
    const lastPrepared = Math.max(
      ...fleet.hosts.map((h) => Number(readFileSync(join(h.root, 'releases/r2/prepared-at'), 'utf8')))
    )
    const firstOffline = Math.min(...fleet.hosts.map((h) => Number(readFileSync(join(h.root, 'offline-at'), 'utf8'))))
    expect(lastPrepared).toBeLessThan(firstOffline)
    // Out of rotation: offline through online-wait, per host.
    const window = (observed: Observed) =>
      reportOf(observed).map((host) => {
        const steps = host.stepsMs as Record<string, number>
        return ['offline', 'offline-wait', 'stop', 'switch', 'start', 'health', 'online', 'online-wait'].reduce(
          (sum, name) => sum + (steps[name] ?? 0),
          0
        )
      })
    const withPrepare = Math.max(...window(prepared))
    expect(withPrepare).toBeLessThan(Math.max(...window(plain)) + 1000) // the 3 s prepare is not in it
    for (const host of fleet.hosts) {
      expect(await fleet.version(host)).toBe('r2')
      expect(currentOf(host)).toBe('r2')
    }
    expect(JSON.parse(prepared.run.outputs.report)[0]).toMatchObject({
      fromRelease: 'r1',
      toRelease: 'r2',
      result: 'succeeded'
    })
    expect(prepared.run.outputs.release).toBe('r2')
  })

  it('a prepare that fails on host 2 changes nothing: all in rotation, no host ever out, the release gone everywhere', async () => {
    await resetFleet()
    const observed = await rollUnderTraffic(
      fleet,
      releaseInputs('r3', { 'prepare-command': '[ "$ROLLOUT_INDEX" != 2 ] || { echo "no disk left"; exit 1; }' })
    )
    expect(observed.run.code).toBe(1)
    expect(observed.run.stdout).toContain('no disk left')
    expectNoUserVisibleErrors(observed)
    expect(observed.maxOutOfRotation).toBe(0)
    for (const host of fleet.hosts) {
      expect(await fleet.version(host)).toBe('v1')
      expect(fleet.healthFilePresent(host)).toBe(true)
      expect(existsSync(join(host.root, 'releases/r3'))).toBe(false)
    }
  })

  it('a failed host is switched back; a re-run of the same release resumes: hosts already on it are unchanged', async () => {
    await resetFleet()
    const third = fleet.hosts[2]
    writeFileSync(join(third.root, 'break-r4'), '')
    const failed = await rollUnderTraffic(fleet, releaseInputs('r4'))
    expect(failed.run.code).toBe(1)
    expectNoUserVisibleErrors(failed)
    expect(reportOf(failed)[2]).toMatchObject({
      result: 'rolled-back',
      rotation: 'in',
      fromRelease: 'v1',
      toRelease: 'r4'
    })
    expect(await fleet.version(third)).toBe('v1')
    const pids = fleet.hosts.slice(0, 2).map(appPid)
    rmSync(join(third.root, 'break-r4'))
    // Rotation measured through HAProxy (online-probe): a host is unchanged only when measured in.
    const rerun = await rollUnderTraffic(fleet, releaseInputs('r4', fleet.probeInputs()))
    expectSucceeded(rerun.run)
    expectNoUserVisibleErrors(rerun)
    expect(reportOf(rerun).map((host) => host.result)).toEqual(['unchanged', 'unchanged', 'succeeded', 'succeeded'])
    expect(fleet.hosts.slice(0, 2).map(appPid)).toEqual(pids) // the same app processes
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('r4')
  })

  it('rollback-scope fleet: a release broken on host 3 sends hosts 1-3 back, host 4 untouched, 0 errors', async () => {
    await resetFleet()
    expect((await rollUnderTraffic(fleet, releaseInputs('r5'))).run.code).toBe(0)
    writeFileSync(join(fleet.hosts[2].root, 'break-r6'), '')
    const observed = await rollUnderTraffic(fleet, releaseInputs('r6', { 'rollback-scope': 'fleet' }))
    expect(observed.run.code).toBe(1)
    expectNoUserVisibleErrors(observed)
    expect(observed.maxOutOfRotation).toBe(1)
    expect(reportOf(observed).map((host) => host.result)).toEqual([
      'rolled-back',
      'rolled-back',
      'rolled-back',
      'skipped'
    ])
    for (const host of fleet.hosts) {
      expect(await fleet.version(host)).toBe('r5')
      expect(currentOf(host)).toBe('r5')
      expect(fleet.healthFilePresent(host)).toBe(true)
    }
  })

  it('rollback-to previous: refused unless on every host; half done (host 3 fails), its re-run goes on the same way; 0 errors', async () => {
    await resetFleet()
    for (const id of ['r7', 'r8']) expect((await rollUnderTraffic(fleet, releaseInputs(id))).run.code).toBe(0)
    const { upload: _upload, 'release-id': _id, ...back } = releaseInputs('r7')
    const refused = await runAction({ ...back, 'rollback-to': 'nowhere' })
    expect(refused.code).toBe(1)
    expect(refused.stdout).toMatch(/rollback-to nowhere: not on every host, nothing was changed/)
    const third = fleet.hosts[2]
    writeFileSync(join(third.root, 'break-r7'), '')
    const halfDone = await rollUnderTraffic(fleet, { ...back, 'rollback-to': 'previous' })
    expect(halfDone.run.code).toBe(1)
    expectNoUserVisibleErrors(halfDone)
    expect(reportOf(halfDone).map((host) => host.result)).toEqual(['succeeded', 'succeeded', 'rolled-back', 'skipped'])
    expect(fleet.hosts.map(currentOf)).toEqual(['r7', 'r7', 'r8', 'r8'])
    rmSync(join(third.root, 'break-r7'))
    // The re-run: hosts 1 and 2 are on r7 now, whose "release before" would be r8: they stay on r7
    // (unchanged, measured in rotation through HAProxy by online-probe).
    const observed = await rollUnderTraffic(fleet, { ...back, ...fleet.probeInputs(), 'rollback-to': 'previous' })
    expect(observed.run.code).toBe(0)
    expectNoUserVisibleErrors(observed)
    expect(observed.maxOutOfRotation).toBe(1)
    expect(observed.run.stdout).toContain(`${fleet.hosts[0].entry}: an unfinished rollback-to previous chose r7`)
    expect(reportOf(observed).map((host) => host.result)).toEqual(['unchanged', 'unchanged', 'succeeded', 'succeeded'])
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('r7')
    expect(observed.run.outputs.release).toBe('r7')
  })

  it('a release id re-used for other content is refused before any host changes, naming both digests', async () => {
    await resetFleet()
    expect((await runAction(releaseInputs('same'))).code).toBe(0)
    for (const host of fleet.hosts) writeFileSync(join(host.root, 'steps.log'), '')
    const other = await runAction(releaseModeInputs(fleet, scratch, 'same', {}, '--healthy-after-ms 10'))
    expect(other.code).toBe(1)
    expect(other.stdout).toMatch(
      /release-id same is already used for other content, nothing was changed \(a release id names one content: choose a new one\): \S+ holds it uploaded as sha256:([0-9a-f]{64}), this run uploads sha256:(?!\1)[0-9a-f]{64}/
    )
    for (const host of fleet.hosts) {
      expect(fleet.steps(host)).toEqual([])
      expect(currentOf(host)).toBe('same')
      expect(readdirSync(join(host.root, 'releases/same'))).toEqual(['VERSION'])
    }
    // The same content again is a re-run: every host unchanged (measured in rotation by online-probe).
    const rerun = await runAction(releaseInputs('same', fleet.probeInputs()))
    expect(rerun.code).toBe(0)
    expect(reportOf({ run: rerun } as Observed).every((host) => host.result === 'unchanged')).toBe(true)
  })

  it('Ctrl-C during a slow prepare ends it: the release removed from every host, none left rotation', async () => {
    await resetFleet()
    const run = await runAction(releaseInputs('p1', { 'prepare-command': 'sleep 60' }), {
      interruptWhen: /::group::Preparing release p1/
    })
    expect(run.outputs.result).toBe('cancelled')
    expect(run.exitAfterInterruptMs).toBeLessThan(10_000)
    expect(run.stdout).toContain('cancelled while preparing release p1; no host left rotation')
    for (const host of fleet.hosts) {
      expect(releasesOn(host)).not.toContain('p1')
      expect(fleet.steps(host)).toEqual([])
      expect(fleet.healthFilePresent(host)).toBe(true)
    }
    expect(sshRun(fleet.ssh, fleet.hosts[0], 'pgrep -f "sleep [6]0" || echo none').trim()).toBe('none')
  })

  it('keeps keep-releases releases per host, and what is in shared/ survives every release', async () => {
    await resetFleet()
    for (const host of fleet.hosts) {
      mkdirSync(join(host.root, 'shared'), { recursive: true })
      writeFileSync(join(host.root, 'shared/.env'), `SECRET_OF=${host.name}\n`)
      execFileSync('chown', ['-R', fleet.ssh.user, join(host.root, 'shared')])
    }
    for (const id of ['k1', 'k2', 'k3', 'k4']) {
      const run = await runAction(
        releaseInputs(id, {
          'keep-releases': '2',
          'shared-paths': '.env\nstorage',
          'prepare-command': 'test -f .env && mkdir -p storage && date >> storage/log'
        })
      )
      expect(run.code).toBe(0)
    }
    for (const host of fleet.hosts) {
      expect(releasesOn(host)).toEqual(['k3', 'k4'])
      // The link points at release-dir's own path, which only the host's view resolves.
      expect(sshRun(fleet.ssh, host, `cat ${HOST_VIEW}/releases/k4/.env`)).toBe(`SECRET_OF=${host.name}\n`)
      expect(readFileSync(join(host.root, 'shared/storage/log'), 'utf8').trim().split('\n')).toHaveLength(4)
      const audit = readFileSync(join(host.root, 'deploy.log'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
      expect(audit.slice(-2).map((entry) => [entry.previousRelease, entry.release, entry.result])).toEqual([
        ['k2', 'k3', 'succeeded'],
        ['k3', 'k4', 'succeeded']
      ])
    }
  })

  it("a dry run's summary shows each host's current release and its deploy lock, and changes nothing", async () => {
    // After the test before: every host on k4. A lock left on host 2 by hand.
    const two = fleet.hosts[1]
    sshRun(fleet.ssh, two, `mkdir ${HOST_VIEW}/.lock`)
    try {
      const run = await runAction(releaseInputs('k5', { 'dry-run': 'true' }))
      expect(run.code).toBe(0)
      expect(run.summary).toContain(
        '| Host | Reachable | Host key | Health path | Load balancer (commands) | Current release | Deploy lock |'
      )
      expect(run.summary).toMatch(
        new RegExp(
          `\\| ${fleet.hosts[0].entry} \\| ✅ \\| ssh-ed25519 \\S+ \\(in known-hosts\\) \\| SSH tunnel to \\S+ \\| rotation not measured \\(no online-probe\\) \\| k4 \\| free \\|`
        )
      )
      expect(run.summary).toContain(`| k4 | ⚠️ held by an unknown holder (no holder file), for `)
      for (const host of fleet.hosts) expect(releasesOn(host)).not.toContain('k5')
    } finally {
      sshRun(fleet.ssh, two, `rmdir ${HOST_VIEW}/.lock`)
    }
  })
})
