// max-connections: the pool never holds more slots than its limit however many hosts use it at
// once, parks the idle host used least recently and never one in use, a parked host connects
// again on its next use, and handshakes start at most maxStarts at once. The lock's beats reach
// every host, parked or not, well within stale-after.
import { EventEmitter } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { setTimeout as pause } from 'node:timers/promises'
import { describe, expect, it } from '@jest/globals'
import { ConnectionPool, type PoolMember } from '../../src/ssh/pool.js'
import { DeployLocks } from '../../src/rollout/locks.js'
import { BEAT_MS, DEFAULT_STALE_MS, PARKED_LEASE_MS, parkedBeatEveryMs } from '../../src/rollout/lock-beats.js'
import { LOCK_MARKER } from '../../src/ssh/lock-scripts.js'
import { connectedFirst, mapBounded } from '../../src/rollout/preflight.js'
import { connectWithRetry } from '../../src/ssh/connect.js'
import { FakeClock, FakeHost, RecordingLog, settingsWith } from '../../test/fakes/fakes.js'

/** A host as the pool sees it: connects inside a use when it is not, and counts what it holds open. */
class FakeMember implements PoolMember {
  connected = false
  opens = 0
  parks = 0
  constructor(
    readonly name: string,
    private readonly fleet: { open: number; peak: number },
    readonly hops = 1
  ) {}
  async connectIfParked() {
    if (this.connected) return
    this.connected = true
    this.opens++
    this.fleet.open += this.hops
    this.fleet.peak = Math.max(this.fleet.peak, this.fleet.open)
  }
  async park() {
    this.parks++
    await pause(Math.random() * 3) // sockets close a moment after the close
    this.connected = false
    this.fleet.open -= this.hops
  }
}

const fleetOf = (names: string[], hops = 1) => {
  const fleet = { open: 0, peak: 0 }
  return { fleet, members: names.map((name) => new FakeMember(name, fleet, hops)) }
}
const use = (pool: ConnectionPool, member: FakeMember, ms = 0, trace?: string[]) =>
  pool.use(member, async () => {
    await member.connectIfParked()
    trace?.push(`${member.name} in`)
    await pause(ms)
    trace?.push(`${member.name} out`)
  })

describe('connection pool', () => {
  it.each([
    [1, 1],
    [5, 1],
    [6, 2]
  ])('never holds more than the limit (%i) open under parallel use, hops %i each', async (limit, hops) => {
    const { fleet, members } = fleetOf(
      Array.from({ length: 40 }, (_, i) => `h${i}`),
      hops
    )
    const pool = new ConnectionPool(limit)
    const uses = Array.from({ length: 300 }, (_, i) => use(pool, members[(i * 7) % 40], Math.random() * 4))
    await Promise.all(uses)
    expect(fleet.peak).toBeLessThanOrEqual(limit)
    expect(fleet.peak).toBe(Math.floor(limit / hops) * hops) // and it is used
    expect(members.every((member) => member.opens >= 1)).toBe(true)
  })

  it('parks the idle host used least recently; a parked host connects again on its next use', async () => {
    const { members } = fleetOf(['a', 'b', 'c'])
    const [a, b, c] = members
    const pool = new ConnectionPool(2)
    await use(pool, a)
    await use(pool, b)
    await use(pool, a) // a is now the more recent
    await use(pool, c)
    expect([a.parks, b.parks, c.parks]).toEqual([0, 1, 0])
    expect(pool.parked(b)).toBe(true)
    await use(pool, b)
    expect([a.parks, b.parks, c.parks]).toEqual([1, 1, 0])
    expect([a.opens, b.opens, c.opens]).toEqual([1, 2, 1])
  })

  it('never parks a host in use: the next host waits for it to finish', async () => {
    const { members } = fleetOf(['a', 'b'])
    const [a, b] = members
    const pool = new ConnectionPool(1)
    const trace: string[] = []
    await Promise.all([use(pool, a, 30, trace), pause(5).then(() => use(pool, b, 0, trace))])
    expect(trace).toEqual(['a in', 'a out', 'b in', 'b out'])
    expect(a.parks).toBe(1)
  })

  it('two uses of one parked host at once take its slots once', async () => {
    const { fleet, members } = fleetOf(['a', 'b'])
    const pool = new ConnectionPool(2)
    await Promise.all([use(pool, members[0], 5), use(pool, members[0], 5), use(pool, members[1], 5)])
    expect(fleet.peak).toBe(2)
    expect(members[0].parks + members[1].parks).toBe(0)
  })

  it('starts at most maxStarts handshakes at once', async () => {
    const pool = new ConnectionPool(100, 3)
    let inFlight = 0
    let most = 0
    await Promise.all(
      Array.from({ length: 20 }, () =>
        pool.handshake(async () => {
          most = Math.max(most, ++inFlight)
          await pause(Math.random() * 5)
          inFlight--
        })
      )
    )
    expect(most).toBe(3)
  })

  it('counts sockets opened, the most open at once, until each closes', () => {
    const pool = new ConnectionPool(10)
    const sockets = [new EventEmitter(), new EventEmitter(), new EventEmitter()]
    pool.opened(sockets[0])
    pool.opened(sockets[1])
    sockets[0].emit('close')
    pool.opened(sockets[2])
    expect(pool.counts).toEqual({ limit: 10, peakOpen: 2, opened: 3, handshakeRetries: 0 })
    expect(pool.openNow).toBe(2)
  })
})

/** A host whose lock scripts answer as a host would: taken first, then beaten; parked or connected. */
const lockHost = (i: number, clock: FakeClock, parked: boolean) => {
  const host: FakeHost = new FakeHost({ entry: `h${i}`, host: `h${i}`, port: 22, user: 'u' }, clock, () => ({
    lines: [`${LOCK_MARKER} ${host.commands.length === 1 ? 'taken' : 'beat'}`]
  }))
  Object.defineProperty(host, 'parked', { value: parked, configurable: true })
  return host
}

describe('lock beats with parked hosts', () => {
  /** A host whose lock scripts answer as a free lock's would: taken, then beaten. */

  it.each([undefined, 120_000])(
    'reach every host within stale-after (%s ms); parked ones less often than connected ones',
    async (staleAfterMs) => {
      const clock = new FakeClock()
      const hosts = Array.from({ length: 60 }, (_, i) => lockHost(i, clock, i >= 4))
      const lock = { ...settingsWith().lock!, staleAfterMs }
      const locks = new DeployLocks(hosts, lock, clock, new RecordingLog())
      const beatsAt = new Map(hosts.map((host) => [host, [clock.now()]]))
      await locks.take(new AbortController().signal)
      for (let tick = 0; tick < 30; tick++) {
        clock.time += BEAT_MS
        const before = new Map(hosts.map((host) => [host, host.commands.length]))
        await locks.beat()
        hosts.forEach((host) => host.commands.length > before.get(host)! && beatsAt.get(host)!.push(clock.now()))
      }
      await locks.release()
      const staleMs = staleAfterMs ?? DEFAULT_STALE_MS
      const gaps = (host: FakeHost) =>
        beatsAt
          .get(host)!
          .slice(1)
          .map((at, i) => at - beatsAt.get(host)![i])
      for (const host of hosts) expect(Math.max(...gaps(host))).toBeLessThanOrEqual(staleMs / 2 + BEAT_MS)
      expect(beatsAt.get(hosts[0])!.length).toBe(31) // connected: every tick
      expect(beatsAt.get(hosts[10])!.length).toBeLessThan(31)
      expect(parkedBeatEveryMs(staleMs)).toBeGreaterThanOrEqual(BEAT_MS)
    }
  )

  it('a fleet bigger than max-connections dates every beat a lease ahead, and beats a parked host once a lease, a connected one every tick', async () => {
    const clock = new FakeClock()
    const hosts = Array.from({ length: 20 }, (_, i) => lockHost(i, clock, i >= 4))
    const locks = new DeployLocks(hosts, settingsWith().lock!, clock, new RecordingLog(), PARKED_LEASE_MS)
    await locks.take(new AbortController().signal)
    const aheadS = PARKED_LEASE_MS / 1000
    expect(hosts.every((host) => host.commands.some((command) => command.includes(`+ ${aheadS} ))`)))).toBe(true)
    const counts = () => hosts.map((host) => host.commands.length)
    const before = counts()
    for (let at = BEAT_MS; at <= PARKED_LEASE_MS; at += BEAT_MS) {
      clock.time += BEAT_MS
      await locks.beat()
    }
    const beats = counts().map((count, i) => count - before[i])
    expect(beats.slice(0, 4)).toEqual(Array(4).fill(PARKED_LEASE_MS / BEAT_MS))
    expect(beats.slice(4)).toEqual(Array(16).fill(1)) // once, when the lease it was taken with ran out
    expect(hosts[10].commands.at(-1)).toContain(`+ ${aheadS} ))`)
    await locks.release()
  })
})

describe('a beat sweep beside a pass over the fleet', () => {
  it('skips a host that was connected when the sweep began but is parked by the time its turn comes', async () => {
    const clock = new FakeClock()
    const hosts = Array.from({ length: 20 }, (_, i) => lockHost(i, clock, false))
    const locks = new DeployLocks(hosts, settingsWith().lock!, clock, new RecordingLog(), PARKED_LEASE_MS)
    await locks.take(new AbortController().signal)
    const before = hosts.map((host) => host.commands.length)
    // Host 0's beat is under way when a pass parks hosts 16 to 19, whose turn comes after the first 16 beats.
    const park = () => hosts.slice(16).forEach((host) => Object.defineProperty(host, 'parked', { value: true }))
    const reply = hosts[0].reply
    hosts[0].reply = (command, calls) => (park(), reply(command, calls))
    clock.time += BEAT_MS
    await locks.beat()
    const beaten = hosts.map((host, i) => host.commands.length > before[i])
    expect(beaten).toEqual([...Array(16).fill(true), ...Array(4).fill(false)])
    await locks.release()
  })
})

describe('a pass over a fleet bigger than max-connections', () => {
  it('starts with the hosts still connected, and gives the results in the hosts order', async () => {
    const clock = new FakeClock()
    const hosts = Array.from({ length: 6 }, (_, i) => lockHost(i, clock, ![1, 4].includes(i)))
    expect(connectedFirst(hosts)).toEqual([1, 4, 0, 2, 3, 5])
    const started: string[] = []
    const results = await mapBounded(
      hosts,
      async (host) => {
        started.push(host.target.entry)
        return host.target.entry
      },
      connectedFirst(hosts)
    )
    expect(started.slice(0, 2)).toEqual(['h1', 'h4'])
    expect(results).toEqual(['h0', 'h1', 'h2', 'h3', 'h4', 'h5'])
  })
})

describe('a handshake refused the way an sshd past MaxStartups refuses it', () => {
  it.each([
    ['closed before the banner', (socket: Socket) => socket.end()],
    ['reset', (socket: Socket) => socket.resetAndDestroy()]
  ])('%s: retried with backoff within connect-attempts, each retry said and counted', async (_name, refuse) => {
    const server = createServer(refuse)
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
    const { port } = server.address() as AddressInfo
    const log = new RecordingLog()
    const pool = new ConnectionPool(5)
    const settings = { ...settingsWith().ssh, connectAttempts: 3, connectTimeoutMs: 5_000 }
    const target = { host: '127.0.0.1', port, user: 'u', entry: `u@127.0.0.1:${port}` }
    const context = { settings, accepted: new Map(), pool, clock: new FakeClock(), log }
    const connecting = connectWithRetry(target, context, new AbortController().signal)
    await expect(connecting).rejects.toThrow(`cannot connect to ${target.entry}`)
    server.close()
    expect(pool.counts).toMatchObject({ opened: 3, handshakeRetries: 2 })
    expect(
      log.lines.filter((line) => /connection attempt [12] failed \(.+\); retrying in \d+ ms/.test(line))
    ).toHaveLength(2)
  })
})
