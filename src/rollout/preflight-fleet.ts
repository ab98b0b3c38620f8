// Preflight of the whole fleet, before anything changes: every host connected, its health path
// proven, its journal read and its place in the load balancer described, each host in one visit
// (one connection) where that can be; on any failure everything opened is closed.
import type { Settings } from '../inputs/settings.js'
import { createLoadBalancer } from '../load-balancer/create.js'
import { systemClock, type Connector, type LbMember, type Log, type Runner } from '../ports.js'
import { hostVariables } from '../variables.js'
import { proveHealthPath } from './health-path.js'
import { hostLines } from './host-lines.js'
import { readLeftOn } from './journal.js'
import { placeTargets } from './placement.js'
import { preflightVisiting } from './preflight.js'

interface PreflightDeps {
  readonly runner: Runner
  readonly log: Log
  readonly signal: AbortSignal
}

export async function preflightFleet(settings: Settings, deps: PreflightDeps, connector: Connector) {
  const { log, signal, runner } = deps
  return log.group(`Preflight: connecting to ${settings.hosts.length} host(s)`, async () => {
    const lb = createLoadBalancer({ settings, runner, connector, clock: systemClock, log })
    const rolloutPlaces = placeTargets(settings.hosts, settings.batches.size)
    // Each host's health path, journal and (where the load balancer is read on the host) place,
    // while it is connected: past max-connections, one connection per host instead of one per pass.
    const visited = await preflightVisiting(settings.hosts, connector, signal, async (host, i) => {
      const proven = await proveHealthPath(host, settings, rolloutPlaces[i], log)
      const left = await readLeftOn(host, settings)
      // The host as its health path uses it (wrapped where requests run on it), as the rollout's members are.
      const member: LbMember = {
        host: proven.host,
        env: hostVariables(settings, rolloutPlaces[i]),
        left: left !== undefined
      }
      const place = lb.readsOnHost ? (await lb.describe([member], signal))[0] : undefined
      return { ...proven, left, member, place }
    }).catch(async (error: unknown) => {
      await lb.close()
      throw error
    })
    const found = visited.map(({ found }) => found)
    const hosts = found.map(({ host }) => host)
    const left = found.map((host) => host.left)
    try {
      const places = lb.readsOnHost
        ? found.map(({ place }) => place ?? '')
        : await lb.describe(
            found.map(({ member }) => member),
            signal
          )
      const entries = hosts.map((host) => `[${host.target.entry}]`)
      log.info(
        hostLines(
          entries,
          places.map((place) => `load balancer (${lb.kind}): ${place}`),
          ' '
        )
      )
      return { hosts, healthPaths: found.map(({ healthPath }) => healthPath), lb, places, left }
    } catch (error: unknown) {
      await Promise.all([lb.close(), ...hosts.map((host) => host.close())])
      throw error
    }
  })
}
