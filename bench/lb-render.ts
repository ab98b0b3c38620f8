// The load-balancer benchmark's table and what it says, as the README and the console show them.
import type { Check } from '../test/fleet/haproxy.js'
import { measuredOn, type Machine } from './common.js'
import type { apiCalls, GROUP } from './lb-elbv2.js'
import type { TRAFFIC } from './lb-haproxy.js'
import type { MethodSummary } from './lb-summary.js'

/** Everything measured, as bench/lb-results.json holds it. */
export interface Results {
  readonly date: string
  readonly machine: Machine
  /** Where the fleet and the action ran (taskset). */
  readonly pinned: string
  readonly fleet: {
    hosts: number
    rounds: number
    traffic: typeof TRAFFIC
    haproxyCheck: Check
    elbv2Group: typeof GROUP
  }
  /** The health file with probes, load-balancer: haproxy, load-balancer: aws-elbv2. */
  readonly methods: MethodSummary[]
  readonly elbv2ApiCalls: ReturnType<typeof apiCalls>
}

interface Shape {
  readonly hosts: number
  readonly rounds: number
  readonly targetRatio: number
}

const ms = (value: number | undefined) => (value === undefined ? '—' : `${value} ms`)
const judged = (ratio: { median: number; worst: number }, target: number) =>
  `${ratio.worst <= target ? 'met' : '**not met**'} (median host ${ratio.median} ×, worst ${ratio.worst} ×)`

/** The full results, for docs/benchmark.md. */
export function render(results: Results, shape: Shape): string {
  const { machine: m, fleet } = results
  const { haproxyCheck: check, elbv2Group: group, traffic } = fleet
  return [
    `${measuredOn(results.date, m)}. Pinned: the fleet, HAProxy, the stand-in and the traffic on CPU 0, the action on CPU 1. Medians over ${shape.hosts} hosts × ${shape.rounds} rounds. HAProxy checks every ${check.interMs / 1000} s, fall ${check.fall}, rise ${check.rise}; the stand-in's target group every ${group.intervalS} s, unhealthy ${group.unhealthyThreshold}, healthy ${group.healthyThreshold}, deregistration delay ${group.delayS} s. Traffic throughout: 4 quick clients (${traffic.thinkMs} ms apart) and ${traffic.slowClients} clients of ${traffic.slowMs / 1000} s requests; v1 exits at once on SIGTERM, so a request the drain missed is cut.`,
    '',
    '| method | out of rotation per host: report / as the LB showed it | stop → healthy | drain | out / (stop → healthy + drain): report / LB, median (worst) | offline, offline-wait | online, online-wait | rollout | errors: quick / 2 s (of) |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...results.methods.map((row) => {
      const p = row.stepsMs
      const lbRatio = row.lbOutOfRotationMs === undefined ? '—' : `${row.lbRatio.median} (${row.lbRatio.worst})`
      return `| ${row.method} | ${ms(row.outOfRotationMs)} / ${ms(row.lbOutOfRotationMs)} | ${ms(row.stopToHealthyMs)} | ${ms(row.drainMs)} | ${row.ratio.median} (${row.ratio.worst}) / ${lbRatio} | ${ms(p.offline)}, ${ms(p['offline-wait'])} | ${ms(p.online)}, ${ms(p['online-wait'])} | ${ms(row.totalMs)} | ${row.quick.errors} / ${row.slow.errors} (${row.quick.requests} / ${row.slow.requests}) |`
    }),
    '',
    `Out of rotation, by the report: the action's steps offline through online-wait (their durations in its \`report\` output, summed); as the LB showed it: HAProxy's \`show stat\` read every 25 ms, from the server's first state other than UP (DOWN, DRAIN, MAINT) until it is UP again (\`UP 1/${check.fall}\` after \`state ready\` counts: HAProxy sends it requests), and the stand-in's target from \`draining\` to \`healthy\`. Stop → healthy: the steps stop, deploy, start and health. Drain: behind HAProxy, from the server's leaving rotation (DOWN after its failed checks, or DRAIN) until HAProxy counts no session on it (\`scur\` 0), read the same way; behind the stand-in, offline-wait (deregistered until \`unused\`: the group's delay). The health-file method's offline-probe waits for DOWN and \`scur\` 0 in \`show stat\`: the fleet's hosts share one network stack, so their web ports differ and one \`drain-port\` cannot serve them all.`,
    '',
    ...verdict(results, shape),
    '',
    apiLine(results, shape)
  ].join('\n')
}

/** Issue 19's target for load-balancer: haproxy, both ways, and where its time out goes. */
function verdict(results: Results, shape: Shape): string[] {
  const [file, haproxy] = results.methods
  const { haproxyCheck: check } = results.fleet
  const p = haproxy.stepsMs
  const beyondDrain = (p['offline-wait'] ?? 0) - (haproxy.drainMs ?? 0)
  const difference = (haproxy.outOfRotationMs ?? 0) - (haproxy.lbOutOfRotationMs ?? 0)
  const up1 = `\`UP 1/${check.fall}\``
  return [
    `Issue 19's target, load-balancer: haproxy out of rotation ≤ ${shape.targetRatio} × (stop → healthy + drain) per host: by the report, ${judged(haproxy.ratio, shape.targetRatio)}; as HAProxy showed it, ${judged(haproxy.lbRatio, shape.targetRatio)}. The difference (${difference} ms) is ${(p['online-wait'] ?? 0) * 2 >= difference ? 'mostly' : 'in part'} online-wait (${ms(p['online-wait'])}): at \`state ready\` HAProxy takes the server back at once (${up1}, one failed check from DOWN) and shows plain \`UP\`, which the action waits for, only when its next check passes, a median ${ms(haproxy.lbConfirmMs)} later here (checks are ${check.interMs / 1000} s apart, so up to that). The rest: offline and online, one \`set server\` each over SSH on the LB host (${ms(p.offline)}, ${ms(p.online)}), and offline-wait beyond the drain (${beyondDrain} ms: polling \`show stat\` and \`state maint\`).`,
    '',
    `The health file with probes keeps a host out ${ms(file.outOfRotationMs)} by the report (${ms(file.lbOutOfRotationMs)} as HAProxy showed it): its offline-wait (${ms(file.stepsMs['offline-wait'])}) is HAProxy's ${check.fall} failed checks before DOWN, then the drain; its online-wait (${ms(file.stepsMs['online-wait'])}) the ${check.rise} passing checks before UP.`
  ]
}

function apiLine(results: Results, shape: Shape): string {
  const calls = results.elbv2ApiCalls
  const perRun = Object.entries(calls.perRun)
    .map(([action, n]) => `${action} ${n}`)
    .join(', ')
  return `aws-elbv2, API requests per run of ${shape.hosts} hosts (median, probe-interval ${calls.probeInterval}): ${perRun}; per host ${calls.perHost.DeregisterTargets} DeregisterTargets, ${calls.perHost.RegisterTargets} RegisterTargets and ${calls.perHost.DescribeTargetHealth} DescribeTargetHealth (less the one read of every host at preflight), while it drains (the ${results.fleet.elbv2Group.delayS} s delay) and comes back (${results.fleet.elbv2Group.healthyThreshold} checks ${results.fleet.elbv2Group.intervalS} s apart).`
}
