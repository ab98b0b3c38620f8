// For load-balancer: haproxy on the real fleet: a second HAProxy in front of the same hosts (its
// admin socket in an LB host's disk), every server set ready again between tests, and what users
// saw through every HAProxy while the action ran: quick and slow requests, and each server's time
// out of rotation as HAProxy showed it.
import { setTimeout as pause } from 'node:timers/promises'
import { LB_SOCKET, lbSocket, type Fleet } from './fleet.js'
import { adminCommand, outOfRotation, startHaproxy, type LoadBalancer } from './haproxy.js'
import { freePort } from './ports.js'
import type { SshHost } from './ssh-hosts.js'
import { startTraffic, type Tally, type Traffic } from './traffic.js'

/** Another HAProxy with the fleet's servers, an admin socket in each of `lbHosts`' disks; once it has them all UP. */
export async function startSecondHaproxy(fleet: Fleet, lbHosts: readonly SshHost[]): Promise<LoadBalancer> {
  const lb = await startHaproxy(fleet.ssh.dir, fleet.backends, await freePort(), {
    name: 'haproxy2',
    extraSockets: lbHosts.map((host) => lbSocket(host, fleet.ssh.user))
  })
  await allUp(lb, fleet.hosts.length)
  return lb
}

/**
 * The fleet's inputs with the LB told through HAProxy, over SSH on the fleet's LB hosts `lbHosts`
 * (indexes), at LB_SOCKET: no health file, no rotation commands.
 */
export function haproxyInputs(
  fleet: Fleet,
  lbHosts: readonly number[],
  overrides: Record<string, string> = {}
): Record<string, string> {
  const inputs: Record<string, string> = {
    ...fleet.inputs(),
    'load-balancer': 'haproxy',
    'haproxy-hosts': lbHosts.map((i) => fleet.lbHosts[i].entry).join('\n'),
    'haproxy-socket': LB_SOCKET.overSsh,
    'drain-timeout': '10s',
    'online-wait': '10s',
    'probe-interval': '100ms',
    ...overrides
  }
  delete inputs['offline-command']
  delete inputs['online-command']
  return inputs
}

/** Every server out of maintenance or drain (a test may leave one there), then all UP. */
export async function readyAll(lbs: readonly LoadBalancer[], count: number): Promise<void> {
  for (const lb of lbs) {
    for (const name of (await lb.states()).keys()) await adminCommand(lb.socket, `set server app/${name} state ready`)
    await allUp(lb, count)
  }
}

async function allUp(lb: LoadBalancer, count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    // Its port may answer a moment before its admin socket is in place (HAProxy renames it there).
    const states = await lb.states().catch((error: unknown) => new Map([['admin socket', String(error)]]))
    if (states.size === count && [...states.values()].every((status) => status === 'UP')) return
    if (Date.now() > deadline) throw new Error(`HAProxy never had every server UP: ${JSON.stringify([...states])}`)
    await pause(50)
  }
}

/** Each server's stretches out of rotation in one HAProxy (ms), from its states every `everyMs`. */
export interface Stretches {
  readonly byServer: Map<string, number[]>
  /** The most servers out at once. */
  readonly maxOut: number
  /** Servers out when sampling stopped. */
  readonly outAtEnd: string[]
  readonly samples: number
}

function sampleStretches(lb: LoadBalancer, everyMs = 20): { stop(): Promise<Stretches> } {
  const byServer = new Map<string, number[]>()
  const since = new Map<string, number>()
  let maxOut = 0
  let samples = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const states = await lb.states()
      const now = Date.now()
      samples++
      for (const [name, status] of states) {
        const start = since.get(name)
        if (outOfRotation(status) && start === undefined) since.set(name, now)
        if (!outOfRotation(status) && start !== undefined) {
          byServer.set(name, [...(byServer.get(name) ?? []), now - start])
          since.delete(name)
        }
      }
      maxOut = Math.max(maxOut, since.size)
      await pause(everyMs)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return { byServer, maxOut, outAtEnd: [...since.keys()], samples }
    }
  }
}

export interface SeenThrough<T> {
  readonly result: T
  /** Quick requests (`/`) through every HAProxy, summed. */
  readonly quick: Tally
  /** Slow requests (`/slow?ms=…`), many in flight when a host leaves. */
  readonly slow: Tally
  /** Per HAProxy, in `lbs`' order. */
  readonly rotation: Stretches[]
}

/**
 * Runs `body` under traffic through every HAProxy of `lbs`: 4 quick clients (each `thinkMs` between
 * requests: 0, a flood) and `slowClients` slow ones (each request `slowMs` long) on each; waits for
 * the last slow requests before stopping.
 */
export async function observeThrough<T>(
  lbs: readonly LoadBalancer[],
  body: () => Promise<T>,
  { slowMs = 2000, slowClients = 8, thinkMs = 0 } = {}
): Promise<SeenThrough<T>> {
  const quick = lbs.map((lb) => startTraffic(lb.port, 4, thinkMs))
  const slow = lbs.map((lb) => startTraffic(lb.port, slowClients, 0, 300_000, `/slow?ms=${slowMs}`))
  const samplers = lbs.map((lb) => sampleStretches(lb))
  await pause(slowMs + 300) // slow requests in flight on every host before the first one leaves
  const result = await body()
  await pause(500) // the last host's rise in HAProxy
  const rotation = await Promise.all(samplers.map((sampler) => sampler.stop()))
  return { result, quick: await stopAll(quick), slow: await stopAll(slow), rotation }
}

/** Stops the clients (each finishes the request it is in) and sums their tallies. */
async function stopAll(traffic: readonly Traffic[]): Promise<Tally> {
  const tallies = await Promise.all(traffic.map((t) => t.stop()))
  const sum: Tally = { requests: 0, byStatus: {}, byVersion: {}, connectionErrors: {}, errors: 0 }
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n
  }
  for (const tally of tallies) {
    sum.requests += tally.requests
    sum.errors += tally.errors
    add(sum.byStatus, tally.byStatus)
    add(sum.byVersion, tally.byVersion)
    add(sum.connectionErrors, tally.connectionErrors)
  }
  return sum
}
