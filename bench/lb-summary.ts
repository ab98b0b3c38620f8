// What one rollout of the load-balancer benchmark measured, and the medians over its rounds: each
// host's time out of rotation, the app's stop → healthy and the drain, from the action's report
// (and, behind HAProxy, from HAProxy's own counts), what users saw, and the API calls to AWS.
import type { Tally } from '../test/fleet/traffic.js'
import type { ActionRun } from '../test/run-action.js'
import { errorsOf, hostLines, median, OUT_OF_ROTATION, stepSum, ratio, round, type HostLine } from './common.js'

/** The app's stop → healthy: from the start of `stop` to the end of `health` (the steps in between). */
export const STOP_TO_HEALTHY = ['stop', 'deploy', 'switch', 'start', 'health']

export interface HostTimes {
  /** offline through online-wait, the sum of those steps' durations in the action's report. */
  readonly outMs: number
  readonly stopToHealthyMs: number
  readonly drainMs: number
  /** Out of rotation as the load balancer showed it (HAProxy's `show stat`, the stand-in's states). */
  readonly lbOutMs?: number
  /** HAProxy: from showing it back in rotation (`UP 1/3` after `state ready`) to plain UP. */
  readonly lbConfirmMs?: number
  readonly stepsMs: Record<string, number>
}

export interface RoundResult {
  /** The action's process, spawn to exit. */
  readonly totalMs: number
  readonly hosts: HostTimes[]
  readonly quick: Tally
  readonly slow: Tally
  /** The most hosts out of rotation at once, as the load balancer showed it. */
  readonly maxOut?: number
  /** API requests by Action (aws-elbv2). */
  readonly apiCalls?: Record<string, number>
}

/** What the load balancer showed of one host: its time out of rotation, and (HAProxy) its confirmation. */
export interface LbView {
  readonly outMs: number
  readonly confirmMs?: number
}

/**
 * Each host's times from a run's report; `drainOf` says which figure is its drain (a step, or
 * what the load balancer counted), `lbOf` what the load balancer showed of it.
 */
export function hostTimes(
  run: ActionRun,
  drainOf: (host: HostLine) => number,
  lbOf: (host: HostLine) => LbView
): HostTimes[] {
  return hostLines(run.outputs.report).map((host) => ({
    outMs: stepSum(host, OUT_OF_ROTATION),
    stopToHealthyMs: stepSum(host, STOP_TO_HEALTHY),
    drainMs: drainOf(host),
    lbOutMs: lbOf(host).outMs,
    lbConfirmMs: lbOf(host).confirmMs,
    stepsMs: host.stepsMs
  }))
}

/** Medians over every host of every round, and each round's total. */
export function summarize(method: string, rounds: readonly RoundResult[]) {
  const hosts = rounds.flatMap((r) => r.hosts)
  const of = (pick: (host: HostTimes) => number | undefined) => {
    const values = hosts.map(pick).filter((value) => value !== undefined)
    return values.length ? round(median(values)) : undefined
  }
  const ratios = (out: (host: HostTimes) => number) => {
    const each = hosts.map((host) => out(host) / (host.stopToHealthyMs + host.drainMs))
    return { median: ratio(median(each)), worst: ratio(Math.max(...each)) }
  }
  const steps = ['offline', 'offline-wait', 'drain', 'online', 'online-wait']
  const sum = (pick: (r: RoundResult) => number) => rounds.reduce((total, r) => total + pick(r), 0)
  return {
    method,
    totalMs: round(median(rounds.map((r) => r.totalMs))),
    runsMs: rounds.map((r) => round(r.totalMs)),
    outOfRotationMs: of((host) => host.outMs),
    lbOutOfRotationMs: of((host) => host.lbOutMs),
    lbConfirmMs: of((host) => host.lbConfirmMs),
    stopToHealthyMs: of((host) => host.stopToHealthyMs),
    drainMs: of((host) => host.drainMs),
    /** Per host: out / (stop → healthy + drain), the median host's and the worst; by the report, and as the LB showed it. */
    ratio: ratios((host) => host.outMs),
    lbRatio: ratios((host) => host.lbOutMs ?? NaN),
    stepsMs: Object.fromEntries(
      steps.flatMap((p) => (hosts.some((h) => p in h.stepsMs) ? [[p, of((h) => h.stepsMs[p])]] : []))
    ),
    quick: { requests: sum((r) => r.quick.requests), errors: sum((r) => errorsOf(r.quick)) },
    slow: { requests: sum((r) => r.slow.requests), errors: sum((r) => errorsOf(r.slow)) },
    maxOut: rounds.every((r) => r.maxOut !== undefined) ? Math.max(...rounds.map((r) => r.maxOut ?? 0)) : undefined
  }
}

export type MethodSummary = ReturnType<typeof summarize>
