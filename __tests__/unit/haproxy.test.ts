// load-balancer: haproxy's logic against scripted HAProxies (FakeHaproxy): which servers a host
// is, what each step sends to every HAProxy, and the waits that must end (a server already in the
// wanted state) or fail (never UP). The real HAProxy runs in haproxy-fleet.test.ts.
import { describe, expect, it } from '@jest/globals'
import { haproxyBalancer } from '../../src/load-balancer/haproxy.js'
import { PreflightError } from '../../src/rollout/preflight.js'
import { NEVER_ABORTED, type LbMember } from '../../src/ports.js'
import { FakeClock, FakeHost, FakeRunner, fakeConnector, RecordingLog, settingsWith } from '../../test/fakes/fakes.js'
import { FakeHaproxy, server } from '../../test/fakes/fake-haproxy.js'

const HOSTS = 'deploy@10.0.0.1\ndeploy@10.0.0.2\ndeploy@web3.example'
const signal = NEVER_ABORTED

function setUp(inputs: Record<string, string> = {}, haproxies = 1, resolve = async (): Promise<string[]> => []) {
  const settings = settingsWith({
    hosts: HOSTS,
    'load-balancer': 'haproxy',
    'health-file': '',
    'drain-timeout': '30s',
    'online-wait': '5s',
    'probe-interval': '200ms',
    ...inputs
  })
  const clock = new FakeClock()
  const log = new RecordingLog()
  const lbs = Array.from(
    { length: haproxies },
    (_, i) =>
      new FakeHaproxy(
        `lb${i + 1}`,
        [
          server('app', 'web1', '10.0.0.1'),
          server('app', 'web2', '10.0.0.2'),
          server('api', 'web1-api', '10.0.0.1'),
          server('app', 'web3', '10.0.0.3')
        ],
        clock
      )
  )
  const hosts = settings.hosts.map((target) => new FakeHost(target, clock))
  const deps = { settings, runner: new FakeRunner(clock), connector: fakeConnector(hosts), clock, log }
  const balancer = haproxyBalancer(deps, settings.loadBalancer.haproxy!, { sockets: lbs, resolve })
  const members: LbMember[] = hosts.map((host) => ({ host, env: [] }))
  return { balancer, members, lbs, clock, log }
}

const sets = (lb: FakeHaproxy) => lb.sent.filter((command) => command.startsWith('set '))

describe('haproxy: which servers a host is', () => {
  it('finds each host by its address, in every backend, and describes their state', async () => {
    const { balancer, members, lbs } = setUp({ hosts: 'deploy@10.0.0.1\ndeploy@10.0.0.2' })
    lbs[0].servers[1].admin = 'drain'
    expect(await balancer.describe(members, signal)).toEqual(['app/web1 UP; api/web1-api UP', 'app/web2 DRAIN'])
    // One table and one `show stat` for all the hosts.
    expect(lbs[0].sent).toEqual(['show servers state', 'show stat'])
  })

  it('names every HAProxy when there are several, and what each shows', async () => {
    const { balancer, members, lbs } = setUp({ hosts: 'deploy@10.0.0.2' }, 2)
    expect(await balancer.describe(members, signal)).toEqual(['app/web2 UP at lb1, lb2'])
    lbs[1].servers[1].up = false
    expect(await balancer.describe(members, signal)).toEqual(['app/web2 UP at lb1, DOWN at lb2'])
  })

  it('fails preflight naming each host HAProxy does not know, with the addresses it does', async () => {
    const { balancer, members } = setUp()
    const error = await balancer.describe(members, signal).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PreflightError)
    expect((error as PreflightError).failures).toEqual([
      {
        target: members[2].host.target,
        message:
          "HAProxy at lb1: no server at web3.example (its servers' addresses: 10.0.0.1, 10.0.0.2, 10.0.0.3); name its servers in haproxy-servers"
      }
    ])
  })

  it('resolves a host name on the runner, and takes haproxy-servers as given', async () => {
    const resolved = setUp({}, 1, async () => ['10.0.0.3'])
    expect(await resolved.balancer.describe(resolved.members, signal)).toHaveLength(3)
    const named = setUp({
      'haproxy-servers': 'deploy@web3.example=app/web3\ndeploy@10.0.0.1=api/web1-api'
    })
    expect(await named.balancer.describe(named.members, signal)).toEqual([
      'api/web1-api UP',
      'app/web2 UP',
      'app/web3 UP'
    ])
  })

  it('fails preflight for a server haproxy-servers names that HAProxy does not have', async () => {
    const { balancer, members } = setUp({ hosts: 'deploy@10.0.0.1', 'haproxy-servers': 'deploy@10.0.0.1=app/web9' })
    await expect(balancer.describe(members, signal)).rejects.toThrow(
      /- deploy@10\.0\.0\.1: HAProxy at lb1: no server app\/web9 \(haproxy-servers names it\)/
    )
  })

  it('fails preflight for every host when an HAProxy cannot be read, naming it', async () => {
    const { balancer, members, lbs } = setUp({ hosts: 'deploy@10.0.0.1\ndeploy@10.0.0.2' }, 2)
    lbs[1].override = () => 'Permission denied\n'
    const error = (await balancer.describe(members, signal).catch((e: unknown) => e)) as PreflightError
    expect(error.failures.map(({ message }) => message)).toEqual([
      'HAProxy at lb2: HAProxy did not answer `show servers state` with a table: Permission denied',
      'HAProxy at lb2: HAProxy did not answer `show servers state` with a table: Permission denied'
    ])
  })
})

describe('haproxy: out of rotation', () => {
  it('drains every server of the host on every HAProxy, waits for its sessions to end, then maint', async () => {
    const { balancer, members, lbs, clock, log } = setUp({}, 2)
    lbs.forEach((lb) => (lb.servers[0].scur = 3))
    // One session ends per `show stat` on each HAProxy.
    lbs.forEach((lb) => (lb.onStat = () => (lb.servers[0].scur = Math.max(lb.servers[0].scur - 1, 0))))
    const start = clock.now()
    await balancer.takeOut(members[0], signal)
    expect(lbs.map(sets)).toEqual(
      Array(2).fill(['set server app/web1 state drain', 'set server api/web1-api state drain'])
    )
    await balancer.awaitOut(members[0], signal)
    expect(lbs.map((lb) => sets(lb).slice(2))).toEqual(
      Array(2).fill(['set server app/web1 state maint', 'set server api/web1-api state maint'])
    )
    expect(lbs[0].servers.slice(0, 3).map((s) => s.admin)).toEqual(['maint', 'ready', 'maint'])
    expect(clock.now() - start).toBeLessThan(1000) // three reads, 200 ms apart
    expect(await balancer.inRotation(members[0])).toBe('out')
    expect(log.lines).toContain('[deploy@10.0.0.1] HAProxy at lb2: app/web1, api/web1-api set to drain')
    expect(log.warnings).toEqual([])
  })

  it('a server already in maintenance is out at once: no wait, no hang', async () => {
    const { balancer, members, lbs, clock } = setUp()
    lbs[0].servers[1].admin = 'maint'
    const start = clock.now()
    await balancer.takeOut(members[1], signal)
    await balancer.awaitOut(members[1], signal)
    expect(clock.now() - start).toBeLessThan(100)
    expect(lbs[0].servers[1].admin).toBe('maint')
  })

  it('sessions still open after drain-timeout: a warning, and it is taken out anyway', async () => {
    const { balancer, members, lbs, clock, log } = setUp({ 'drain-timeout': '3s' })
    lbs[0].servers[1].scur = 2
    const start = clock.now()
    await balancer.takeOut(members[1], signal)
    await balancer.awaitOut(members[1], signal)
    expect(clock.now() - start).toBeGreaterThanOrEqual(3000)
    expect(clock.now() - start).toBeLessThan(3300)
    expect(log.warnings).toEqual([
      'deploy@10.0.0.2: HAProxy still counts 2 sessions (app/web2 2 at lb1) after drain-timeout (3000 ms); taking it out anyway'
    ])
    expect(lbs[0].servers[1].admin).toBe('maint')
  })

  it('without drain-timeout, offline-wait bounds the wait', async () => {
    const { balancer, members, lbs, clock, log } = setUp({ 'drain-timeout': '', 'offline-wait': '2s' })
    lbs[0].servers[1].scur = 1
    const start = clock.now()
    await balancer.takeOut(members[1], signal)
    await balancer.awaitOut(members[1], signal)
    expect(clock.now() - start).toBeLessThan(2300)
    expect(log.warnings[0]).toMatch(/still counts 1 session \(app\/web2 1 at lb1\) after offline-wait \(2000 ms\)/)
  })

  it('a host HAProxy never shows out fails, untouched by maint (the rollout puts it back)', async () => {
    const { balancer, members, lbs } = setUp({ 'drain-timeout': '2s' })
    // The drain is acknowledged, yet something puts the server back at once.
    lbs[0].onStat = (lb) => (lb.servers[1].admin = 'ready')
    await balancer.takeOut(members[1], signal)
    await expect(balancer.awaitOut(members[1], signal)).rejects.toThrow(
      'HAProxy did not show the host out of rotation after 2000 ms: still in rotation: app/web2 UP'
    )
    expect(sets(lbs[0])).toEqual(['set server app/web2 state drain'])
  })

  it('a refused command fails the step, naming the HAProxy; the others were still told', async () => {
    const { balancer, members, lbs } = setUp({ 'haproxy-servers': 'deploy@10.0.0.2=app/web2' }, 2)
    lbs[0].override = (command) => (command.startsWith('set ') ? 'No such server.\n\n' : undefined)
    await expect(balancer.takeOut(members[1], signal)).rejects.toThrow(
      'HAProxy at lb1: HAProxy refused `set server app/web2 state drain`: No such server.'
    )
    expect(lbs[1].servers[1].admin).toBe('drain')
  })
})

describe('haproxy: back in rotation', () => {
  it('ready, then waits for the health check to report it UP on every HAProxy', async () => {
    const { balancer, members, lbs, log } = setUp({}, 2)
    lbs.forEach((lb) => (lb.servers[1].admin = 'maint'))
    // lb2's check passes a read later than lb1's.
    lbs.forEach((lb, i) => {
      let reads = 0
      lb.onStat = () => {
        if (++reads > i + 1) lb.servers[1].checkedSinceReady = true
      }
    })
    await balancer.putBack(members[1], signal)
    expect(await balancer.inRotation(members[1])).toBe('in') // UP 1/2 serves already
    await balancer.awaitIn(members[1], signal)
    expect(lbs.map((lb) => lb.status(lb.servers[1]))).toEqual(['UP', 'UP'])
    expect(log.lines).toContain('[deploy@10.0.0.2] HAProxy: app/web2 UP at lb1, lb2')
  })

  it('a server already UP, or without checks, is in at once', async () => {
    const { balancer, members, lbs, clock } = setUp()
    lbs[0].servers[1].check = false
    const start = clock.now()
    await balancer.awaitIn(members[0], signal)
    await balancer.awaitIn(members[1], signal)
    expect(clock.now() - start).toBeLessThan(100)
  })

  it('a server never UP fails after online-wait, saying what HAProxy shows, and is left out', async () => {
    const { balancer, members, lbs, clock } = setUp()
    lbs[0].servers[1].up = false
    const start = clock.now()
    await balancer.putBack(members[1], signal)
    await expect(balancer.awaitIn(members[1], signal)).rejects.toThrow(
      'HAProxy did not report the host UP after 5000 ms: app/web2 DOWN; left out of rotation (state maint)'
    )
    expect(clock.now() - start).toBeLessThan(5300)
    expect(sets(lbs[0])).toEqual(['set server app/web2 state ready', 'set server app/web2 state maint'])
  })

  it('rotation is unknown where an HAProxy cannot be read', async () => {
    const { balancer, members, lbs } = setUp({}, 2)
    lbs[1].override = () => {
      throw new Error('connect ECONNREFUSED')
    }
    expect(await balancer.inRotation(members[0])).toBe('unknown')
    await balancer.close()
    expect(lbs.map((lb) => lb.closed)).toEqual([true, true])
  })
})
