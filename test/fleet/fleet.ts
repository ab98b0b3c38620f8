// The whole local fleet: N hosts (sshd + nginx + app each, on 127.0.0.x) behind one HAProxy.
// Used by the fleet tests, the demo and the benchmark; everything it starts, close() stops.
import { CHECK, startHaproxy, type Backend, type Check, type LoadBalancer } from './haproxy.js'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { setTimeout as pause } from 'node:timers/promises'
import { startNginx } from './nginx.js'
import { freePort, freePortOnAll } from './ports.js'
import { inRotation, installApp, stepsOn, stopApps, versionOn, type Release } from './releases.js'
import {
  connectionInputs,
  HOST_VIEW,
  startSshFleet,
  type SshFleet,
  type SshFleetOptions,
  type SshHost
} from './ssh-hosts.js'
import type { Daemon } from './daemon.js'

export interface Fleet {
  readonly ssh: SshFleet
  readonly hosts: readonly SshHost[]
  /**
   * Hosts that run no app, only sshd (startFleet's lbHosts): LB hosts, each holding in its disk an
   * admin socket of an HAProxy (the fleet's for the first), at LB_SOCKET over SSH.
   */
  readonly lbHosts: readonly SshHost[]
  /** Where each host's nginx listens: HAProxy's servers. */
  readonly backends: readonly Backend[]
  readonly appPort: number
  /**
   * Each host's nginx port, distinct: the hosts share one network stack, and a port is what a
   * drain (`ss` on the host, by local port) tells them apart by, as separate machines would be.
   */
  readonly webPorts: readonly number[]
  readonly lb: LoadBalancer
  /** HAProxy's health check timing (startFleet's `check`). */
  readonly check: Check
  /** Puts every host back on v1, running and online, and waits until HAProxy has them all UP. */
  reset(releases?: (host: SshHost, index: number) => Release[]): Promise<void>
  /** The action's inputs for this fleet: the seed's method, health file, appctl.sh, health-url. */
  inputs(overrides?: Record<string, string>): Record<string, string>
  /**
   * offline-probe and online-probe asking HAProxy's admin socket, the way a user would with socat:
   * `show servers state` gives each server's address and operational state (0 stopped, 2 running).
   */
  probeInputs(interval?: string): Record<string, string>
  version(host: SshHost): Promise<string | undefined>
  steps(host: SshHost): string[]
  /** Whether the host's health file is there (what the LB probes). */
  healthFilePresent(host: SshHost): boolean
  waitForApps(): Promise<void>
  waitForStates(predicate: (states: Map<string, string>) => boolean, timeoutMs?: number): Promise<Map<string, string>>
  close(): Promise<void>
}

export const DEFAULT_RELEASES: Release[] = [{ name: 'v1' }, { name: 'v2' }]
/** An LB host's HAProxy admin socket, in its disk (`root`) and as its SSH sessions see it. */
export const LB_SOCKET = { inRoot: 'haproxy/admin.sock', overSsh: `${HOST_VIEW}/haproxy/admin.sock` }
const APPCTL = 'sh "$HOST_ROOT/appctl.sh"'

/**
 * `releases`: those on every host's disk (each host starts on v1, which must be one of them);
 * `sshOptions`: how the hosts' sshd is configured; `check`: HAProxy's health check timing.
 */
export async function startFleet(
  count: number,
  releases: Release[] = DEFAULT_RELEASES,
  sshOptions: SshFleetOptions = {},
  { lbHosts: lbCount = 0, check = CHECK }: { lbHosts?: number; check?: Check } = {}
): Promise<Fleet> {
  const ssh = await startSshFleet(count + lbCount, sshOptions)
  const hosts = ssh.hosts.slice(0, count)
  const lbHosts = ssh.hosts.slice(count)
  const daemons: Daemon[] = []
  let lb: LoadBalancer | undefined
  const close = async () => {
    await lb?.stop()
    await Promise.all(daemons.map((daemon) => daemon.stop()))
    await stopApps(ssh)
    await ssh.close()
  }
  try {
    const addresses = hosts.map((host) => host.address)
    const appPort = await freePortOnAll(addresses)
    const webPorts: number[] = []
    for (const host of hosts) {
      let port = await freePort(host.address)
      while (webPorts.includes(port)) port = await freePort(host.address)
      webPorts.push(port)
    }
    for (const host of hosts) installApp(ssh, host, appPort, releases)
    for (const [i, host] of hosts.entries()) daemons.push(await startNginx(host, webPorts[i], appPort, ssh.user))
    const backends = hosts.map((host, i) => ({ name: host.name, address: host.address, port: webPorts[i] }))
    lb = await startHaproxy(ssh.dir, backends, await freePort(), {
      extraSockets: lbHosts.slice(0, 1).map((host) => lbSocket(host, ssh.user)),
      check
    })
    const balancer = lb
    const fleet: Fleet = {
      ssh,
      hosts,
      lbHosts,
      backends,
      appPort,
      webPorts,
      lb: balancer,
      check,
      async reset(releases = () => DEFAULT_RELEASES) {
        hosts.forEach((host, i) => installApp(ssh, host, appPort, releases(host, i)))
        await fleet.waitForApps()
        await fleet.waitForStates((states) => [...states.values()].every((status) => status === 'UP'))
      },
      inputs: (overrides = {}) => ({
        ...connectionInputs(ssh),
        hosts: hosts.map((host) => host.entry).join('\n'),
        'offline-command': 'rm -f "$HOST_ROOT/status/nginx-status.html"',
        'online-command': 'touch "$HOST_ROOT/status/nginx-status.html"',
        'stop-command': `${APPCTL} stop`,
        'deploy-command': `${APPCTL} deploy "$RELEASE"`,
        'start-command': `${APPCTL} start`,
        'health-url': `http://\${ROLLOUT_HOST}:${appPort}/health`,
        'health-body': 'version=v2',
        'health-interval': '100ms',
        'health-timeout': '10s',
        // The LB needs fall × inter to notice (rise × inter to come back); wait a few checks more.
        'offline-wait': `${check.interMs * (check.fall + 3)}ms`,
        'online-wait': `${check.interMs * (check.rise + 3)}ms`,
        env: 'RELEASE=v2',
        ...overrides
      }),
      probeInputs: (interval = '50ms') => {
        const state = (expected: number) =>
          `echo 'show servers state app' | socat stdio ${balancer.socket} | awk -v a="$ROLLOUT_HOST" '$5 == a { s = $6 } END { exit s != ${expected} }'`
        return { 'offline-probe': state(0), 'online-probe': state(2), 'probe-interval': interval }
      },
      version: (host) => versionOn(host, appPort),
      steps: (host) => stepsOn(host),
      healthFilePresent: (host) => inRotation(host),
      async waitForApps() {
        // HAProxy probes nginx's health file, which is there before the app listens: wait for the app.
        const deadline = Date.now() + 10_000
        while ((await Promise.all(hosts.map((host) => versionOn(host, appPort)))).some((v) => v === undefined)) {
          if (Date.now() > deadline) throw new Error('the apps did not start')
          await pause(50)
        }
      },
      async waitForStates(predicate, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs
        for (;;) {
          const states = await balancer.states()
          if (predicate(states)) return states
          if (Date.now() > deadline) throw new Error(`HAProxy states never matched: ${JSON.stringify([...states])}`)
          await pause(50)
        }
      },
      close
    }
    await fleet.waitForApps()
    await fleet.waitForStates((states) => states.size === count && [...states.values()].every((s) => s === 'UP'))
    return fleet
  } catch (error: unknown) {
    await close()
    throw error
  }
}

/** An admin socket for the LB host's login user, in its disk (the directory made here). */
export function lbSocket(host: SshHost, user: string): { path: string; user: string } {
  const dir = join(host.root, dirname(LB_SOCKET.inRoot))
  mkdirSync(dir, { recursive: true })
  return { path: join(host.root, LB_SOCKET.inRoot), user }
}

export { APPCTL }
