// The rollout benchmark's figures judged: every method against the lower bound the load balancer
// and the app allow, and issues 5 and 12's targets, each with the figure it is judged by. Builds
// what bench/results.json holds.
import { CHECK } from '../test/fleet/haproxy.js'
import { machine, median, medianIfAny, ratio, round } from './common.js'
import type { CommandCost } from './rollout-costs.js'
import type { FiftyHosts } from './rollout-fifty.js'
import { FIXED_WAIT_MS, HEALTH_POLL_MS, HOSTS, PREPARE_S } from './rollout-methods.js'
import type { AppTimings, MethodResult } from './rollout-rounds.js'

/** HAProxy's detection per host: fall checks to take a host out, rise to put it back. */
const LB_MS = CHECK.interMs * (CHECK.fall + CHECK.rise)

/** Methods measured under the same pinning, against the lower bound measured under it. */
export function judge(app: AppTimings[], methods: MethodResult[]) {
  const perHost = app.map((host) => LB_MS + host.stopMs + host.startToHealthyMs)
  const lowerBoundMs = perHost.reduce((sum, ms) => sum + ms, 0)
  const lowerBoundPerHostMs = median(perHost)
  return {
    lowerBoundMs: round(lowerBoundMs),
    lowerBoundPerHostMs: round(lowerBoundPerHostMs),
    methods: methods.map((m) => {
      const total = median(m.totalMs)
      const out = medianIfAny(m.outOfRotationMs)
      return {
        method: m.method,
        totalMs: round(total),
        overLowerBound: ratio(total / lowerBoundMs),
        overheadPerHostMs: round((total - lowerBoundMs) / HOSTS),
        outOfRotationPerHostMs: out,
        outOfRotationOverLowerBound: out === undefined ? undefined : ratio(out / lowerBoundPerHostMs),
        errors: m.errors,
        requests: m.requests,
        maxOutOfRotation: m.maxOutOfRotation,
        runsMs: m.totalMs.map(round),
        // Only the action's runs have these; the seed's loop leaves them empty.
        commandMsMedian: medianIfAny(m.commandMs),
        startupAndPreflightMsMedian: medianIfAny(m.startupAndPreflightMs),
        afterRolloutMsMedian: medianIfAny(m.afterRolloutMs)
      }
    })
  }
}

export type Judged = ReturnType<typeof judge>
type Row = Judged['methods'][number]

const ZERO_ERRORS = '0 errors seen by the traffic, every method, pinned and unpinned'

/** Issue 5's targets (the base methods unpinned, and the 50 hosts), each with the figure it is judged by. */
function targets([, probes, seed]: Row[], fifty: FiftyHosts, cold: number[]) {
  const seedOverProbes = ratio(seed.totalMs / probes.totalMs)
  const preflight50 = round(median(fifty.preflight))
  const coldStart = round(median(cold))
  const peakRssMb = Number(fifty.peakRssMb.toFixed(1))
  return [
    {
      target: 'with probes, 4 hosts: total ≤ 1.15 × the lower bound',
      latest: `${probes.overLowerBound} ×`,
      met: probes.overLowerBound <= 1.15
    },
    {
      target: "the action's overhead ≤ 150 ms per host",
      latest: `${probes.overheadPerHostMs} ms`,
      met: probes.overheadPerHostMs <= 150
    },
    { target: "≥ 3 × faster than the seed's method", latest: `${seedOverProbes} ×`, met: seedOverProbes >= 3 },
    // Judged over every comparison by judgeErrors.
    { target: ZERO_ERRORS, latest: '', met: false },
    { target: 'preflight of 50 hosts ≤ 2 s', latest: `${preflight50} ms`, met: preflight50 <= 2000 },
    { target: 'cold start ≤ 300 ms', latest: `${coldStart} ms`, met: coldStart <= 300 },
    { target: 'peak RSS ≤ 150 MB for 50 hosts', latest: `${peakRssMb} MB`, met: peakRssMb <= 150 }
  ]
}

/** Issue 12's target: release mode keeps the preparation out of the window. */
function releaseTarget(pinned: Judged) {
  const over = pinned.methods[0].outOfRotationOverLowerBound ?? Infinity
  return {
    target: `release mode, pinned: out of rotation per host ≤ 1.15 × the per-host lower bound, whatever the ${PREPARE_S} s prepare`,
    latest: `${over} ×`,
    met: over <= 1.15
  }
}

/** Everything the rollout benchmark measured. */
export interface Measured {
  rounds: number
  app: AppTimings[]
  pinnedApp: AppTimings[]
  methods: MethodResult[]
  pinnedMethods: MethodResult[]
  releases: MethodResult[]
  pinnedReleases: MethodResult[]
  guards: MethodResult[]
  commands: CommandCost
  trafficCores: number
  cold: number[]
  fifty: FiftyHosts
}

/** With probes: the median host's time in each step, beside what the LB and the app take. */
function probesSteps(app: AppTimings[], probes: MethodResult) {
  return {
    action: Object.fromEntries(Object.entries(probes.stepsMs).map(([step, ms]) => [step, round(median(ms))])),
    lbOfflineMs: CHECK.interMs * CHECK.fall,
    lbOnlineMs: CHECK.interMs * CHECK.rise,
    appStopMs: round(median(app.map((host) => host.stopMs))),
    appStartToHealthyMs: round(median(app.map((host) => host.startToHealthyMs)))
  }
}

/** Everything measured, as bench/results.json holds it. */
export function summarize(m: Measured) {
  const unpinned = judge(m.app, m.methods)
  const [fixed, probes, seed] = unpinned.methods
  const pinned = judge(m.pinnedApp, m.pinnedReleases)
  return {
    date: new Date().toISOString(),
    machine: machine(),
    /** Cores kept busy by the fleet and the traffic alone, before any rollout. */
    busyCoresUnderTraffic: ratio(m.trafficCores),
    fleet: { hosts: HOSTS, haproxy: CHECK, fixedWaitMs: FIXED_WAIT_MS, healthPollMs: HEALTH_POLL_MS, rounds: m.rounds },
    lowerBound: {
      totalMs: unpinned.lowerBoundMs,
      perHost: m.app.map((host) => ({
        lbDetectionMs: LB_MS,
        appStopMs: round(host.stopMs),
        appStartToHealthyMs: round(host.startToHealthyMs)
      }))
    },
    methods: unpinned.methods,
    probesStepsMs: probesSteps(m.app, m.methods[1]),
    seedOverProbes: ratio(seed.totalMs / probes.totalMs),
    fixedOverProbes: ratio(fixed.totalMs / probes.totalMs),
    coldStartMs: { median: round(median(m.cold)), samples: m.cold.map(round) },
    preflight50HostsMs: {
      median: round(median(m.fifty.preflight)),
      samples: m.fifty.preflight.map(round),
      // The 50 sshd run on the same 2 cores as the action: the action's own share, and the rest.
      actionCpuMsMedian: round(median(m.fifty.preflightCpuMs)),
      restOfMachineCpuMsMedian: round(median(m.fifty.othersCpuMs))
    },
    rollout50HostsBatch10: { totalMs: round(m.fifty.rolloutMs), peakRssMb: Number(m.fifty.peakRssMb.toFixed(1)) },
    guards50HostsBatch10: m.fifty.guards,
    /** One small command on an open connection: the action's long-lived shell, or a channel each. */
    commandCost: m.commands,
    targets: [...targets(unpinned.methods, m.fifty, m.cold), releaseTarget(pinned)],
    pinned: judge(m.pinnedApp, m.pinnedMethods),
    releases: { unpinned: judge(m.app, m.releases), pinned },
    guards: judge(m.app, m.guards)
  }
}

export type Results = ReturnType<typeof summarize>

/** Every comparison's user-visible errors together: unpinned, pinned, the release and guard rows. */
export function allErrors(results: Results): number {
  return [results, results.pinned, results.releases.unpinned, results.releases.pinned, results.guards]
    .flatMap((judged) => judged.methods)
    .reduce((sum, row) => sum + row.errors, 0)
}

/** The zero-errors target judged over every comparison. */
export function judgeErrors(results: Results): Results['targets'] {
  const errors = allErrors(results)
  return results.targets.map((target) =>
    target.target.startsWith('0 errors') ? { target: ZERO_ERRORS, latest: String(errors), met: errors === 0 } : target
  )
}
