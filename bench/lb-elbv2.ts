// The load-balancer benchmark's aws-elbv2 part: the same fleet behind the ELBv2 stand-in (its target
// group health-checks each host's real app; users go through its listener), rolled by the action
// with load-balancer: aws-elbv2 under quick and 2 s traffic, counting its API requests by Action.
import { setTimeout as pause } from 'node:timers/promises'
import { startElbv2Fleet, type Elbv2Fleet } from '../test/fleet/elbv2-fleet.js'
import type { Fleet } from '../test/fleet/fleet.js'
import { startTraffic } from '../test/fleet/traffic.js'
import { runAction } from '../test/run-action.js'
import { median } from './common.js'
import { ABRUPT_V1, ACTION_CPU, expectRolled, RUN_TIMEOUT_MS, TRAFFIC } from './lb-haproxy.js'
import { hostTimes, type RoundResult } from './lb-summary.js'

/**
 * HAProxy's inter 2 s fall 3 rise 2 as a target group's health check, and a deregistration delay
 * just longer than the 2 s requests (on AWS it ends early once none is in flight; the stand-in's
 * runs it out, so a 2 s delay would race the last 2 s request).
 */
export const GROUP = { delayS: 3, intervalS: 2, healthyThreshold: 2, unhealthyThreshold: 3 }
/** The action's default: the stand-in answers at once, so this sets the number of reads. */
const PROBE_INTERVAL = '500ms'
const NAME = 'load-balancer: aws-elbv2 (stand-in)'

export async function benchElbv2(fleet: Fleet, rounds: number): Promise<RoundResult[]> {
  const aws = await startElbv2Fleet(fleet, GROUP)
  const results: RoundResult[] = []
  try {
    for (let r = 0; r < rounds; r++) {
      await fleet.reset(ABRUPT_V1)
      await aws.reset()
      const from = aws.standIn.requests.length
      const since = Date.now()
      const quick = startTraffic(aws.listener.port, 4, TRAFFIC.thinkMs)
      const slow = startTraffic(aws.listener.port, TRAFFIC.slowClients, 0, RUN_TIMEOUT_MS, `/slow?ms=${TRAFFIC.slowMs}`)
      await pause(TRAFFIC.slowMs + 300) // slow requests in flight on every host before the first one leaves
      const started = performance.now()
      const run = await runAction(aws.inputs({ 'online-wait': '30s', 'probe-interval': PROBE_INTERVAL }), {
        env: aws.env,
        cpus: ACTION_CPU,
        timeoutMs: RUN_TIMEOUT_MS
      })
      const totalMs = performance.now() - started
      await pause(500) // the last host's requests
      const tallies = { quick: await quick.stop(), slow: await slow.stop() }
      await expectRolled(fleet, NAME, run)
      // The drain: deregistered → unused, the group's delay (what offline-wait waits for).
      const hosts = hostTimes(
        run,
        (host) => host.stepsMs['offline-wait'] ?? 0,
        (host) => ({
          outMs: outOfGroup(
            aws,
            fleet.hosts.findIndex((h) => h.entry === host.host),
            since
          )
        })
      )
      results.push({ totalMs, hosts, ...tallies, apiCalls: aws.countsSince(from) })
      console.log(`  round ${r + 1}, ${NAME}: ${Math.round(totalMs)} ms`)
    }
  } finally {
    await aws.close()
  }
  return results
}

/** A target's time out as the stand-in showed it: from healthy → draining to its next → healthy. */
function outOfGroup(aws: Elbv2Fleet, index: number, since: number): number {
  const moves = aws.standIn.transitions.filter((t) => t.target === aws.targetOf(index) && t.at >= since)
  const left = moves.find((t) => t.from === 'healthy' && t.to === 'draining')
  const back = moves.find((t) => t.to === 'healthy' && left !== undefined && t.at >= left.at)
  if (left === undefined || back === undefined)
    throw new Error(`${NAME}: ${aws.targetOf(index)} never left and came back`)
  return back.at - left.at
}

/**
 * API requests by Action per run (median over the rounds), and per host: one deregistration, one
 * registration and the target health reads while it drains and comes back (less the one read of
 * every host at preflight).
 */
export function apiCalls(rounds: readonly RoundResult[], hosts: number) {
  const actions = [...new Set(rounds.flatMap((r) => Object.keys(r.apiCalls ?? {})))].sort()
  const perRun = Object.fromEntries(
    actions.map((action) => [action, median(rounds.map((r) => r.apiCalls?.[action] ?? 0))])
  )
  const perHost = (action: string, once = 0) => Number((((perRun[action] ?? 0) - once) / hosts).toFixed(1))
  return {
    probeInterval: PROBE_INTERVAL,
    perRun,
    perHost: {
      DeregisterTargets: perHost('DeregisterTargets'),
      RegisterTargets: perHost('RegisterTargets'),
      DescribeTargetHealth: perHost('DescribeTargetHealth', 1)
    }
  }
}
