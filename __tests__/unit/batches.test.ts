import { describe, expect, it } from '@jest/globals'
import { awaitGroup } from '../../src/ssh/remote-scripts.js'
import type { FakeHost } from '../../test/fakes/fakes.js'
import { fakeRollout } from '../../test/fakes/rollout.js'

const OFFLINE = "rm -f '/srv/status/nginx-status.html'"
const ONLINE = "touch '/srv/status/nginx-status.html'"

const failOn = (host: FakeHost, command: string, code = 1) => {
  const previous = host.reply
  host.reply = (c, n) => (c === command ? { code, lines: [`${command} failed here`] } : previous(c, n))
}

describe('rollout, one host at a time', () => {
  it('runs offline, wait, stop, start, health, online, wait on every host in order', async () => {
    const { hosts, run, clock } = fakeRollout()
    const before = clock.now()
    const result = await run()
    expect(result.status).toBe('success')
    for (const host of hosts) expect(host.commands).toEqual([OFFLINE, 'appctl stop', 'appctl start', ONLINE])
    expect(result.hosts.map((h) => [h.outcome, h.rotation])).toEqual(Array(4).fill(['succeeded', 'in']))
    const steps = result.hosts[0].timeline.map((p) => p.name)
    expect(steps).toEqual(['offline', 'offline-wait', 'stop', 'start', 'health', 'online', 'online-wait'])
    expect(result.hosts[0].timeline.find((p) => p.name === 'offline-wait')?.durationMs).toBe(8000)
    // Host 2 starts only after host 1's online-wait ended.
    expect(result.hosts[1].timeline[0].startMs).toBeGreaterThanOrEqual(result.hosts[0].timeline.at(-1)!.startMs + 8000)
    expect(result.durationMs).toBe(clock.now() - before)
  })

  it('exports ROLLOUT_* and env to every command', async () => {
    const { hosts, run } = fakeRollout({ env: 'RELEASE=v2' })
    await run()
    expect(Object.fromEntries(hosts[2].lastEnv)).toEqual({
      ROLLOUT_HOST: 'h3',
      ROLLOUT_PORT: '22',
      ROLLOUT_USER: 'deploy',
      ROLLOUT_TARGET: 'deploy@h3',
      ROLLOUT_BATCH: '3',
      ROLLOUT_INDEX: '3',
      RELEASE: 'v2'
    })
  })

  it('stages the upload before taking the host offline', async () => {
    const { hosts, run } = fakeRollout({
      upload: 'package.json',
      'upload-to': '/tmp/pkg.json',
      'deploy-command': 'unpack'
    })
    const result = await run()
    expect(hosts[0].uploads).toEqual([['package.json', '/tmp/pkg.json']])
    expect(result.hosts[0].timeline.map((p) => p.name).slice(0, 2)).toEqual(['upload', 'offline'])
    expect(hosts[0].commands).toEqual([OFFLINE, 'appctl stop', 'unpack', 'appctl start', ONLINE])
  })
})

describe('a failed host never rejoins the load balancer', () => {
  it('stops at the first failure, leaves it offline and the rest untouched', async () => {
    const { hosts, run } = fakeRollout()
    failOn(hosts[1], 'appctl start')
    const result = await run()
    expect(result.status).toBe('failure')
    expect(hosts[1].commands).toEqual([OFFLINE, 'appctl stop', 'appctl start'])
    expect(hosts[1].commands).not.toContain(ONLINE)
    expect(result.hosts[1]).toMatchObject({
      outcome: 'failed',
      rotation: 'out',
      failedStep: 'start',
      error: 'exited with code 1'
    })
    expect(result.hosts[1].outputTail).toEqual(['appctl start failed here'])
    expect(hosts[2].commands).toEqual([])
    expect(hosts[3].commands).toEqual([])
    expect(result.hosts.map((h) => h.outcome)).toEqual(['succeeded', 'failed', 'skipped', 'skipped'])
    expect(result.stoppedBecause).toMatch(/1 host\(s\) failed and max-failed-hosts is 0/)
  })

  it('fails a host whose health check never passes within health-timeout, without real time passing', async () => {
    const { hosts, run } = fakeRollout({ 'health-timeout': '50s', 'health-interval': '1s' })
    hosts[0].health = () => ({ status: 502, body: 'bad gateway' })
    const started = Date.now()
    const result = await run()
    expect(Date.now() - started).toBeLessThan(2000)
    expect(result.hosts[0]).toMatchObject({ outcome: 'failed', rotation: 'out', failedStep: 'health' })
    expect(result.hosts[0].error).toMatch(/^not healthy after 50000 ms: HTTP 502/)
    expect(result.hosts[0].timeline.find((p) => p.name === 'health')?.durationMs).toBeGreaterThanOrEqual(50_000)
  })

  it('fails a host that answers 200 with the old version when health-body asks for the new', async () => {
    const { hosts, run } = fakeRollout({ 'health-body': 'version=v2', 'health-timeout': '3s' })
    hosts[0].health = () => ({ status: 200, body: 'version=v1' })
    const result = await run()
    expect(result.hosts[0].error).toMatch(/body did not match \/version=v2\/ \(got 'version=v1'\)/)
    expect(hosts[0].commands).not.toContain(ONLINE)
  })

  it('passes a host that becomes healthy within the timeout', async () => {
    const { hosts, run } = fakeRollout({ 'health-timeout': '10s', 'health-status': '200-299' })
    hosts[0].health = (n) => (n < 3 ? { status: 503, body: '' } : { status: 204, body: '' })
    const result = await run()
    expect(result.status).toBe('success')
  })

  it('expands ${ROLLOUT_HOST} and env variables in health-url for each host', async () => {
    const { hosts, run } = fakeRollout({
      env: 'APP_PORT=8080',
      'health-url': 'http://${ROLLOUT_HOST}:${APP_PORT}/health?i=${ROLLOUT_INDEX}'
    })
    const seen: string[] = []
    for (const host of hosts) {
      host.httpGet = async (url: URL) => {
        seen.push(url.href)
        return { status: 200, body: '' }
      }
    }
    await run()
    expect(seen).toEqual([
      'http://h1:8080/health?i=1',
      'http://h2:8080/health?i=2',
      'http://h3:8080/health?i=3',
      'http://h4:8080/health?i=4'
    ])
  })

  it('uses health-command on the host when there is no health-url', async () => {
    const { hosts, run, settings } = fakeRollout({ 'health-url': '', 'health-command': 'curl -fsS localhost/health' })
    hosts[0].reply = (c, n) => ({ code: c === settings.health.command && n < 2 ? 7 : 0 })
    const result = await run()
    expect(result.status).toBe('success')
    expect(hosts[0].commands.filter((c) => c === 'curl -fsS localhost/health')).toHaveLength(3)
  })

  it('reports a command timeout', async () => {
    const { hosts, run } = fakeRollout({ 'command-timeout': '30s' })
    hosts[0].reply = (c) => (c === 'appctl stop' ? { timedOut: true, durationMs: 30_000 } : {})
    const result = await run()
    expect(result.hosts[0]).toMatchObject({
      outcome: 'failed',
      rotation: 'out',
      failedStep: 'stop',
      error: 'timed out after 30000 ms'
    })
  })

  it('reports a command that ended without an exit status', async () => {
    const { hosts, run } = fakeRollout()
    failOn(hosts[0], 'appctl stop', null as unknown as number)
    const result = await run()
    expect(result.hosts[0]).toMatchObject({ error: 'ended without an exit status', rotation: 'out' })
  })

  it('puts a host back online when offline itself failed, since nothing was stopped', async () => {
    const { hosts, run } = fakeRollout()
    failOn(hosts[0], OFFLINE)
    const result = await run()
    expect(hosts[0].commands).toEqual([OFFLINE, ONLINE])
    expect(result.hosts[0]).toMatchObject({ outcome: 'failed', rotation: 'in', failedStep: 'offline' })
  })

  it('leaves a host whose online command failed in an unknown rotation state', async () => {
    const { hosts, run } = fakeRollout()
    failOn(hosts[0], ONLINE)
    const result = await run()
    expect(result.hosts[0]).toMatchObject({ outcome: 'failed', rotation: 'unknown', failedStep: 'online' })
  })
})

describe('a connection lost in the middle of a step: the host is looked at again before the policy decides', () => {
  const IN_ROTATION = "test -e '/srv/status/nginx-status.html'"
  /** The host proves it answers again before the load balancer port measures it. */
  const ANSWERS = ':'
  const lose = (host: FakeHost, command: string, found: { inRotation: boolean; group?: number }) => {
    const previous = host.reply
    host.reply = (c, n) => {
      if (c === command && n === 0) return { lost: 'read ECONNRESET', group: found.group }
      return c === IN_ROTATION ? { code: found.inRotation ? 0 : 1 } : previous(c, n)
    }
  }

  it('found out and not healthy on the new release: no rollback-command, so it stays out, and the report says so', async () => {
    const { hosts, run } = fakeRollout({ 'health-body': 'version=v2', 'health-timeout': '2s' })
    lose(hosts[0], 'appctl stop', { inRotation: false, group: 4242 })
    hosts[0].health = () => ({ status: 200, body: 'version=v1' })
    const result = await run()
    expect(result.status).toBe('failure')
    expect(result.hosts[0]).toMatchObject({
      outcome: 'failed',
      rotation: 'out',
      failedStep: 'stop',
      error:
        "connection lost during `stop` (read ECONNRESET); reconnected: its command ended there; out of rotation, not healthy (not healthy after 2000 ms: HTTP 200 but the body did not match /version=v2/ (got 'version=v1'))"
    })
    // Its stop, which may have run on, is over before the host is looked at.
    expect(hosts[0].commands).toEqual([OFFLINE, 'appctl stop', awaitGroup(4242, 600_000), ANSWERS, IN_ROTATION])
    expect(result.hosts.slice(1).map((h) => h.outcome)).toEqual(['skipped', 'skipped', 'skipped'])
  })

  it('not healthy, with a rollback-command: rolled back as any failed host is, once its command is over', async () => {
    const { hosts, run } = fakeRollout({ 'rollback-command': 'appctl rollback', 'health-timeout': '2s' })
    failOn(hosts[0], awaitGroup(7, 600_000), 3) // the start still ran at command-timeout: ended there
    lose(hosts[0], 'appctl start', { inRotation: false, group: 7 })
    hosts[0].health = () => ({ status: hosts[0].commands.includes('appctl rollback') ? 200 : 503, body: '' })
    const result = await run()
    expect(result.hosts[0]).toMatchObject({ outcome: 'rolled-back', rotation: 'in', failedStep: 'start' })
    expect(result.hosts[0].error).toMatch(
      /^connection lost during `start` \(read ECONNRESET\); reconnected: its command ran on past command-timeout \(600000 ms\) and was ended; out of rotation, not healthy/
    )
    expect(hosts[0].commands.slice(-2)).toEqual(['appctl rollback', ONLINE])
  })

  it('proven healthy on the new release after all: put back in rotation, yet failed (its step never said it ended)', async () => {
    const { hosts, run } = fakeRollout()
    lose(hosts[0], ONLINE, { inRotation: false })
    const result = await run()
    expect(result.hosts[0]).toMatchObject({
      outcome: 'failed',
      rotation: 'in',
      failedStep: 'online',
      error: 'connection lost during `online` (read ECONNRESET); reconnected: out of rotation, healthy'
    })
    expect(hosts[0].commands.slice(-3)).toEqual([ANSWERS, IN_ROTATION, ONLINE])
  })

  it('lost as it left rotation, found still in and healthy (its release untouched): left in', async () => {
    const { hosts, run } = fakeRollout()
    lose(hosts[0], OFFLINE, { inRotation: true })
    const result = await run()
    expect(result.hosts[0]).toMatchObject({ outcome: 'failed', rotation: 'in', failedStep: 'offline' })
    expect(hosts[0].commands).toEqual([OFFLINE, ANSWERS, IN_ROTATION])
  })

  it('where commands move the host, its rotation is what online-probe says, or not measured without one', async () => {
    const commands = {
      'health-file': '',
      'offline-command': 'lb rm',
      'online-command': 'lb add',
      'health-timeout': '1s'
    }
    const probed = fakeRollout({ ...commands, 'online-probe': 'lb says in' })
    probed.runner.reply = (command) => (command === 'lb says in' ? 1 : 0)
    const unprobed = fakeRollout(commands)
    for (const { hosts } of [probed, unprobed]) {
      lose(hosts[0], 'appctl stop', { inRotation: true })
      hosts[0].health = () => ({ status: 503, body: '' })
    }
    const [withProbe, without] = [await probed.run(), await unprobed.run()]
    expect(withProbe.hosts[0].error).toMatch(
      /; reconnected: out of rotation, not healthy \(not healthy after 1000 ms: HTTP 503\)$/
    )
    expect(probed.hosts[0].commands).toEqual(['lb rm', 'appctl stop', ':'])
    expect(without.hosts[0].error).toMatch(/; reconnected: rotation not measured \(no online-probe\), not healthy/)
    expect(without.hosts[0].rotation).toBe('out')
  })

  it('cancelled while its command is awaited: handled as any cancelled host, never called healthy', async () => {
    const { hosts, run, controller } = fakeRollout()
    lose(hosts[0], 'appctl stop', { inRotation: false, group: 9 })
    hosts[0].onExec = (command) => (command === awaitGroup(9, 600_000) ? controller.abort() : undefined)
    const result = await run()
    expect(result.status).toBe('cancelled')
    expect(result.hosts[0]).toMatchObject({ outcome: 'cancelled', rotation: 'out', failedStep: 'stop' })
    expect(result.hosts[0].error).toMatch(
      /; reconnected: out of rotation, not healthy \(not checked: the run was cancelled\)$/
    )
  })

  it('the host cannot be reached again: left out, and the report says it could not look', async () => {
    const { hosts, run } = fakeRollout()
    lose(hosts[0], 'appctl stop', { inRotation: false })
    const lost = hosts[0].reply
    hosts[0].reply = (c, n) =>
      c === IN_ROTATION ? { unreachable: 'cannot connect to deploy@h1: ECONNREFUSED' } : lost(c, n)
    const result = await run()
    expect(result.hosts[0]).toMatchObject({
      outcome: 'failed',
      rotation: 'out',
      error:
        'connection lost during `stop` (read ECONNRESET); could not reconnect to look at it: cannot connect to deploy@h1: ECONNREFUSED'
    })
  })
})

describe('rollback', () => {
  it('puts a rolled-back host online only after it is healthy again', async () => {
    const { hosts, run } = fakeRollout({ 'rollback-command': 'appctl rollback', 'max-failed-hosts': '1' })
    failOn(hosts[1], 'appctl start')
    const result = await run()
    expect(hosts[1].commands).toEqual([OFFLINE, 'appctl stop', 'appctl start', 'appctl rollback', ONLINE])
    expect(result.hosts[1]).toMatchObject({ outcome: 'rolled-back', rotation: 'in', failedStep: 'start' })
    expect(result.hosts[1].timeline.map((p) => p.name).slice(-4)).toEqual([
      'rollback',
      'rollback-health',
      'restore-online',
      'online-wait'
    ])
    expect(result.hosts.map((h) => h.outcome)).toEqual(['succeeded', 'rolled-back', 'succeeded', 'succeeded'])
    expect(result.status).toBe('failure')
  })

  it('leaves the host out when the rollback fails', async () => {
    const { hosts, run } = fakeRollout({ 'rollback-command': 'appctl rollback' })
    failOn(hosts[0], 'appctl start')
    failOn(hosts[0], 'appctl rollback')
    const result = await run()
    expect(hosts[0].commands).not.toContain(ONLINE)
    expect(result.hosts[0]).toMatchObject({ outcome: 'failed', rotation: 'out' })
    expect(result.hosts[0].error).toBe('exited with code 1; rollback failed too: exited with code 1')
  })

  it('leaves the host out when the rolled-back release is not healthy either', async () => {
    const { hosts, run } = fakeRollout({ 'rollback-command': 'appctl rollback', 'health-timeout': '2s' })
    hosts[0].health = () => ({ status: 500, body: '' })
    const result = await run()
    expect(hosts[0].commands).toEqual([OFFLINE, 'appctl stop', 'appctl start', 'appctl rollback'])
    expect(result.hosts[0].error).toMatch(/rollback-health failed too: not healthy/)
  })
})

describe('batches and max-failed-hosts', () => {
  it('runs a ramp of batches, every host of a batch in parallel', async () => {
    const { run } = fakeRollout({ hosts: 'a@h1,a@h2,a@h3,a@h4,a@h5,a@h6', 'batch-size': '1,50%' })
    const result = await run()
    expect(result.batches).toBe(3)
    expect(result.hosts.map((h) => h.batch)).toEqual([1, 2, 2, 2, 3, 3])
    const starts = result.hosts.map((h) => h.timeline[0].startMs)
    // Host 3 started while host 2 was still running.
    expect(starts[2]).toBeLessThan(starts[1] + result.hosts[1].durationMs)
  })

  it('tolerates max-failed-hosts failures and stops after one more', async () => {
    const { hosts, run } = fakeRollout({ 'max-failed-hosts': '1' })
    failOn(hosts[0], 'appctl start')
    failOn(hosts[2], 'appctl start')
    const result = await run()
    expect(result.hosts.map((h) => h.outcome)).toEqual(['failed', 'succeeded', 'failed', 'skipped'])
    expect(hosts[3].commands).toEqual([])
  })

  it('pauses between batches', async () => {
    const { run } = fakeRollout({ 'batch-pause': '30s' })
    const result = await run()
    const gap = result.hosts[1].timeline[0].startMs - (result.hosts[0].timeline.at(-1)!.startMs + 8000)
    expect(gap).toBeGreaterThanOrEqual(30_000)
  })
})

describe('cancellation', () => {
  function cancelWhen(hosts: FakeHost[], controller: AbortController, index: number, command: string) {
    hosts[index].onExec = (c) => {
      if (c === command) controller.abort()
    }
  }

  it('during host 2 health: host 1 stays online, host 2 is left offline, the rest untouched', async () => {
    const { hosts, run, controller } = fakeRollout()
    hosts[1].health = () => {
      controller.abort()
      return { status: 503, body: '' }
    }
    const result = await run()
    expect(result.status).toBe('cancelled')
    expect(result.hosts.map((h) => [h.outcome, h.rotation])).toEqual([
      ['succeeded', 'in'],
      ['cancelled', 'out'],
      ['skipped', 'in'],
      ['skipped', 'in']
    ])
    expect(result.hosts[1].failedStep).toBe('health')
    expect(hosts[1].commands).toEqual([OFFLINE, 'appctl stop', 'appctl start'])
    expect(hosts[2].commands).toEqual([])
  })

  it('puts a host that passed its health check online', async () => {
    const { hosts, run, controller } = fakeRollout()
    hosts[0].health = () => {
      controller.abort()
      return { status: 200, body: '' }
    }
    const result = await run()
    expect(hosts[0].commands).toEqual([OFFLINE, 'appctl stop', 'appctl start', ONLINE])
    expect(result.hosts[0]).toMatchObject({ outcome: 'succeeded', rotation: 'in' })
    expect(result.status).toBe('cancelled')
  })

  it('puts a host back online when cancelled before anything was stopped', async () => {
    const { hosts, run, controller } = fakeRollout()
    cancelWhen(hosts, controller, 0, OFFLINE)
    const result = await run()
    expect(hosts[0].commands).toEqual([OFFLINE, ONLINE])
    expect(result.hosts[0]).toMatchObject({ outcome: 'cancelled', rotation: 'in', failedStep: 'offline' })
  })

  it('starts no new step once cancelled mid-command', async () => {
    const { hosts, run, controller } = fakeRollout()
    cancelWhen(hosts, controller, 0, 'appctl stop')
    const result = await run()
    expect(hosts[0].commands).toEqual([OFFLINE, 'appctl stop'])
    expect(result.hosts[0]).toMatchObject({ outcome: 'cancelled', rotation: 'out', failedStep: 'stop' })
  })

  it('does not start hosts after a cancel between batches', async () => {
    const { hosts, run, controller } = fakeRollout({ 'batch-pause': '5s' })
    hosts[0].onExec = (c) => {
      if (c === "touch '/srv/status/nginx-status.html'") controller.abort()
    }
    const result = await run()
    expect(result.hosts.slice(1).every((h) => h.outcome === 'skipped')).toBe(true)
    expect(hosts[1].commands).toEqual([])
  })
})

describe('rollback health', () => {
  it('checks only the status after a rollback: health-body describes the new release', async () => {
    const { hosts, run } = fakeRollout({
      'rollback-command': 'appctl rollback',
      'health-body': 'version=v2',
      'health-timeout': '2s'
    })
    failOn(hosts[0], 'appctl start')
    hosts[0].health = () => ({ status: 200, body: 'version=v1' })
    const result = await run()
    expect(result.hosts[0]).toMatchObject({ outcome: 'rolled-back', rotation: 'in' })
  })
})

describe('probes: waiting on the load balancer, not on a guess', () => {
  const PROBES = { 'offline-probe': 'lb-says out', 'online-probe': 'lb-says in', 'probe-interval': '500ms' }

  it('moves on as soon as each probe confirms, polling every probe-interval with the host variables', async () => {
    const { hosts, runner, run } = fakeRollout({ ...PROBES, hosts: 'deploy@h1' })
    runner.reply = (command, calls) => (command === 'lb-says out' && calls < 2 ? 1 : 0)
    const result = await run()
    expect(result.status).toBe('success')
    expect(runner.runs.map((r) => r.command)).toEqual(['lb-says out', 'lb-says out', 'lb-says out', 'lb-says in'])
    expect(runner.runs[0].env).toContainEqual(['ROLLOUT_HOST', 'h1'])
    const waited = (name: string) => result.hosts[0].timeline.find((p) => p.name === name)?.durationMs
    // Two refusals a probe-interval apart, then the third run confirms: ~1 s, not offline-wait's 8 s.
    expect(waited('offline-wait')).toBe(1020)
    expect(waited('online-wait')).toBe(20)
    expect(hosts[0].commands).toEqual([OFFLINE, 'appctl stop', 'appctl start', ONLINE])
  })

  it('an offline the probe never confirms: the host goes back online, untouched, and the run stops', async () => {
    const { hosts, runner, run } = fakeRollout(PROBES)
    runner.reply = (command) => (command === 'lb-says out' ? 1 : 0)
    const result = await run()
    expect(result.status).toBe('failure')
    expect(hosts[0].commands).toEqual([OFFLINE, ONLINE])
    expect(result.hosts[0]).toMatchObject({
      outcome: 'failed',
      rotation: 'in',
      failedStep: 'offline-wait',
      error: 'offline-probe did not confirm the host out of rotation after 8000 ms: exit code 1: probe said 1'
    })
    expect(hosts[1].commands).toEqual([])
  })

  it('an online the probe never confirms fails the host, its rotation unknown', async () => {
    const { runner, run } = fakeRollout(PROBES)
    runner.reply = (command) => (command === 'lb-says in' ? 1 : 0)
    const result = await run()
    expect(result.hosts[0]).toMatchObject({ outcome: 'failed', rotation: 'unknown', failedStep: 'online-wait' })
    expect(result.hosts[0].error).toMatch(/^online-probe did not confirm the host in rotation after 8000 ms/)
  })
})

describe('drain', () => {
  const isDrain = (command: string) => command.includes("ss -Htn state established '( sport = :8080 )'")

  it('waits on the host until the port has no established connection, then stops', async () => {
    const { hosts, log, run } = fakeRollout({ 'drain-timeout': '30s', 'drain-port': '8080', hosts: 'deploy@h1' })
    hosts[0].reply = (command) => (isDrain(command) ? { lines: ['3', '1', '0'], durationMs: 1200 } : {})
    const result = await run()
    expect(result.status).toBe('success')
    expect(hosts[0].commands.map((c) => (isDrain(c) ? 'drain' : c))).toEqual([
      OFFLINE,
      'drain',
      'appctl stop',
      'appctl start',
      ONLINE
    ])
    expect(log.lines).toContain('[deploy@h1] 3 connection(s) open on port 8080')
    expect(result.hosts[0].timeline.find((p) => p.name === 'drain')?.durationMs).toBe(1200)
  })

  it('stops anyway after drain-timeout, with a warning naming what was still open', async () => {
    const { hosts, log, run } = fakeRollout({ 'drain-timeout': '2s', 'drain-port': '8080', hosts: 'deploy@h1' })
    hosts[0].reply = (command) => (isDrain(command) ? { lines: ['2'], timedOut: true } : {})
    const result = await run()
    expect(result.status).toBe('success')
    expect(log.warnings).toEqual([
      'deploy@h1: 2 connection(s) still open on port 8080 after drain-timeout (2000 ms); stopping anyway'
    ])
  })

  it('fails the host, back online, when the host cannot count connections', async () => {
    const { hosts, run } = fakeRollout({ 'drain-timeout': '2s', 'drain-port': '8080', hosts: 'deploy@h1' })
    hosts[0].reply = (command) => (isDrain(command) ? { code: 127, lines: ['ss not found on the host'] } : {})
    const result = await run()
    expect(result.hosts[0]).toMatchObject({ outcome: 'failed', rotation: 'in', failedStep: 'drain' })
    expect(hosts[0].commands.at(-1)).toBe(ONLINE)
  })
})
