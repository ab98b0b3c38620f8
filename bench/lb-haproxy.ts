// The two ways of leaving HAProxy the load-balancer benchmark compares on the fleet, and one
// rollout of either under quick and 2 s traffic: the health file with probes asking HAProxy's admin
// socket, and load-balancer: haproxy telling HAProxy through it (over SSH on the LB host).
import type { Fleet } from '../test/fleet/fleet.js'
import { haproxyInputs, observeThrough, readyAll } from '../test/fleet/haproxies.js'
import type { Release } from '../test/fleet/releases.js'
import { runAction, type ActionRun } from '../test/run-action.js'
import type { HostLine } from './common.js'
import { sampleDrains, type ServerStretches } from './haproxy-drains.js'
import { hostTimes, type RoundResult } from './lb-summary.js'

/** v1 exits at once on SIGTERM, cutting what it serves: only a drain keeps a 2 s request whole. */
export const ABRUPT_V1 = (): Release[] => [{ name: 'v1', flags: '--abrupt-stop' }, { name: 'v2' }]
/** Quick clients (4, `thinkMs` apart) and slow ones, each request `slowMs` long, throughout. */
export const TRAFFIC = { slowMs: 2000, slowClients: 4, thinkMs: 5 }
/** Where the action runs; the fleet, HAProxy, the stand-in and the traffic are on CPU 0. */
export const ACTION_CPU = '1'
/** A bound far above what a rollout of 4 hosts takes, so that a stuck one ends. */
export const RUN_TIMEOUT_MS = 300_000

export interface Method {
  readonly name: string
  readonly inputs: Record<string, string>
}

/**
 * An offline-probe that passes once HAProxy shows the host DOWN (its checks of the missing health
 * file failed `fall` times) and counts no session on it: in flight requests done, the drain. The
 * hosts share one network stack, so their web ports differ and drain-port (one port for every
 * host, read with `ss`) cannot tell them apart here; HAProxy's own count (scur) can.
 */
function downAndDrainedProbe(socket: string): string {
  const awk = [
    'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }',
    '$1 == "app" { split($c["addr"], p, ":"); if (p[1] == a) { s = $c["status"]; n = $c["scur"] } }',
    'END { exit !(s ~ /^DOWN/ && n == 0) }'
  ].join(' ')
  return `echo 'show stat' | socat stdio ${socket} | awk -F, -v a="$ROLLOUT_HOST" '${awk}'`
}

/** Both methods with waits long enough for inter 2 s: fall 3 (6 s) and rise 2 (4 s), plus the drain. */
export function haproxyMethods(fleet: Fleet): Method[] {
  const probes = fleet.probeInputs('100ms')
  return [
    {
      name: 'health-file + probes (admin socket)',
      inputs: fleet.inputs({
        'offline-probe': downAndDrainedProbe(fleet.lb.socket),
        'online-probe': probes['online-probe'],
        'probe-interval': probes['probe-interval'],
        'offline-wait': '20s',
        'online-wait': '20s'
      })
    },
    {
      name: 'load-balancer: haproxy (over SSH on the LB host)',
      inputs: haproxyInputs(fleet, [0], { 'drain-timeout': '10s', 'online-wait': '20s', 'probe-interval': '100ms' })
    }
  ]
}

/** Fails the benchmark on a run that failed or left a host off v2: its figures would mean nothing. */
export async function expectRolled(fleet: Fleet, name: string, run: ActionRun): Promise<void> {
  if (run.code !== 0)
    throw new Error(
      `${name}: the action failed (exit ${run.code}): ${run.stdout.slice(-3000)}${run.stderr.slice(-2000)}`
    )
  for (const host of fleet.hosts) {
    const version = await fleet.version(host)
    if (version !== 'v2') throw new Error(`${name}: ${host.name} is on ${version}, not v2`)
  }
}

/** One rollout of `method` under the traffic; drains and times out of rotation as HAProxy counted them. */
export async function rollBehindHaproxy(fleet: Fleet, method: Method): Promise<RoundResult> {
  await fleet.reset(ABRUPT_V1)
  await readyAll([fleet.lb], fleet.hosts.length)
  const sampler = sampleDrains(fleet.lb)
  const seen = await observeThrough(
    [fleet.lb],
    async () => {
      const started = performance.now()
      const run = await runAction(method.inputs, { cpus: ACTION_CPU, timeoutMs: RUN_TIMEOUT_MS })
      return { run, totalMs: performance.now() - started }
    },
    TRAFFIC
  )
  const counted = await sampler.stop()
  const { run, totalMs } = seen.result
  await expectRolled(fleet, method.name, run)
  const stretches = (host: HostLine): ServerStretches => {
    const server = counted.byServer.get(fleet.hosts.find((h) => h.entry === host.host)?.name ?? '')
    if (server === undefined) throw new Error(`${method.name}: HAProxy never showed ${host.host} out of rotation`)
    return server
  }
  return {
    totalMs,
    hosts: hostTimes(
      run,
      (host) => stretches(host).drainMs[0],
      (host) => ({
        outMs: stretches(host).outMs.reduce((sum, ms) => sum + ms, 0),
        confirmMs: stretches(host).confirmMs[0]
      })
    ),
    quick: seen.quick,
    slow: seen.slow,
    maxOut: counted.maxOut
  }
}
