// `npm run bench:lb` (and the second half of `npm run bench`): how long each host is out of rotation
// behind a load balancer with production-like health checks (HAProxy inter 2 s fall 3 rise 2), the
// health file with probes beside load-balancer: haproxy, each rolled ROUNDS times in turn under
// quick and 2 s traffic, then load-balancer: aws-elbv2 against the ELBv2 stand-in with its API
// requests counted. Pinned: the fleet, HAProxy, the stand-in and the traffic on CPU 0, the action
// on CPU 1. Prints a table, writes bench/lb-results.json and the README's section between
// <!-- bench:lb:start --> and <!-- bench:lb:end -->; `--render-only` redoes the last two from the JSON.
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { startFleet } from '../test/fleet/fleet.js'
import type { Check } from '../test/fleet/haproxy.js'
import { machine, pinTree, updateReadme } from './common.js'
import { apiCalls, benchElbv2, GROUP } from './lb-elbv2.js'
import { ABRUPT_V1, haproxyMethods, rollBehindHaproxy, TRAFFIC } from './lb-haproxy.js'
import { errorsOf, summarize, type MethodSummary, type RoundResult } from './lb-summary.js'

const HOSTS = 4
const ROUNDS = 1
/** Production-like: HAProxy's own default inter, 3 failures out, 2 successes in. */
const CHECK: Check = { interMs: 2000, fall: 3, rise: 2 }
/** Issue 19: load-balancer: haproxy keeps each host out no longer than this × (stop → healthy + drain). */
const TARGET_RATIO = 1.2
const RESULTS = new URL('./lb-results.json', import.meta.url)

async function measure() {
  const fleet = await startFleet(HOSTS, undefined, {}, { lbHosts: 1, check: CHECK })
  try {
    console.log('Pinned: the fleet, HAProxy, the stand-in and the traffic on CPU 0; the action on CPU 1')
    pinTree('0')
    await fleet.reset(ABRUPT_V1) // the apps start again from the pinned sshd
    const methods = haproxyMethods(fleet)
    const rounds = methods.map(() => [] as RoundResult[])
    // Rounds interleave the methods, so a slow moment of a shared machine does not hit one only.
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, method] of methods.entries()) {
        const result = await rollBehindHaproxy(fleet, method)
        rounds[i].push(result)
        const errors = errorsOf(result.quick) + errorsOf(result.slow)
        console.log(`  round ${r + 1}, ${method.name}: ${Math.round(result.totalMs)} ms, ${errors} errors`)
      }
    }
    const elbv2 = await benchElbv2(fleet, ROUNDS)
    return { haproxy: methods.map((method, i) => summarize(method.name, rounds[i])), elbv2 }
  } finally {
    pinTree(`0-${cpus().length - 1}`)
    await fleet.close()
  }
}

async function main() {
  console.log(
    `Fleet: ${HOSTS} hosts and an LB host, HAProxy inter ${CHECK.interMs} ms fall ${CHECK.fall} rise ${CHECK.rise}`
  )
  const { haproxy, elbv2 } = await measure()
  const aws = summarize('load-balancer: aws-elbv2 (ELBv2 stand-in)', elbv2)
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    pinned: 'the fleet, HAProxy, the stand-in and the traffic on CPU 0; the action on CPU 1 (taskset)',
    fleet: { hosts: HOSTS, rounds: ROUNDS, haproxyCheck: CHECK, elbv2Group: GROUP, traffic: TRAFFIC },
    methods: [...haproxy, aws],
    elbv2ApiCalls: apiCalls(elbv2, HOSTS)
  }
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n')
  publish(results)
}

type Results = {
  date: string
  machine: ReturnType<typeof machine>
  fleet: { traffic: typeof TRAFFIC; haproxyCheck: Check; elbv2Group: typeof GROUP }
  methods: MethodSummary[]
  elbv2ApiCalls: ReturnType<typeof apiCalls>
}

/** Prints the table and writes it into the README; a non-zero exit on user-visible errors. */
function publish(results: Results) {
  const text = render(results)
  console.log(`\n${text}`)
  updateReadme('bench:lb', text)
  const errors = results.methods.reduce((sum, m) => sum + m.quick.errors + m.slow.errors, 0)
  if (errors > 0) {
    console.error(`\n${errors} user-visible errors: every method must have 0`)
    process.exitCode = 1
  }
}

function render(results: Results): string {
  const { machine: m, fleet } = results
  const [, haproxy] = results.methods
  const ms = (value: number | undefined) => (value === undefined ? '—' : `${value} ms`)
  const calls = results.elbv2ApiCalls
  const met = haproxy.ratioMax <= TARGET_RATIO
  return [
    `Measured ${results.date.slice(0, 10)} on ${m.cores} × ${m.cpu}, Linux ${m.kernel}, Node ${m.node}, a machine shared with other test runs; pinned: the fleet, HAProxy, the stand-in and the traffic on CPU 0, the action on CPU 1. Medians over ${HOSTS} hosts × ${ROUNDS} rounds; HAProxy checks every ${fleet.haproxyCheck.interMs / 1000} s, fall ${fleet.haproxyCheck.fall}, rise ${fleet.haproxyCheck.rise}; the stand-in's target group every ${fleet.elbv2Group.intervalS} s, unhealthy ${fleet.elbv2Group.unhealthyThreshold}, healthy ${fleet.elbv2Group.healthyThreshold}, deregistration delay ${fleet.elbv2Group.delayS} s. Traffic throughout: 4 quick clients and ${fleet.traffic.slowClients} of ${fleet.traffic.slowMs / 1000} s requests; v1 exits at once on SIGTERM, so a request the drain missed is cut.`,
    '',
    '| method | out of rotation per host | as the LB showed it | stop → healthy | drain | out / (stop → healthy + drain): median, worst | offline-wait | online-wait | rollout | errors: quick / 2 s (of) |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...results.methods.map(
      (row) =>
        `| ${row.method} | ${ms(row.outOfRotationMs)} | ${ms(row.lbOutOfRotationMs)} | ${ms(row.stopToHealthyMs)} | ${ms(row.drainMs)} | ${row.ratioMedian}, ${row.ratioMax} | ${ms(row.phasesMs['offline-wait'])} | ${ms(row.phasesMs['online-wait'])} | ${ms(row.totalMs)} | ${row.quick.errors} / ${row.slow.errors} (${row.quick.requests} / ${row.slow.requests}) |`
    ),
    '',
    "Out of rotation: the action's phases offline through online-wait (their durations in its `report` output, summed); as the LB showed it: HAProxy's `show stat` read every 25 ms, from the server's first state other than UP to UP again. Stop → healthy: the phases stop, deploy, start and health. Drain: behind HAProxy, from the server's leaving rotation (DOWN after its failed checks, or DRAIN) until HAProxy counts no session on it (`scur` 0), read the same way; behind the stand-in, offline-wait (deregistered until `unused`, the group's delay). The health-file method's offline-probe waits for DOWN and `scur` 0 (the hosts share one network stack, so `drain-port` cannot tell them apart here).",
    '',
    `Issue 19's target, load-balancer: haproxy out of rotation ≤ ${TARGET_RATIO} × (stop → healthy + drain) per host: ${met ? 'met' : 'not met'} (median host ${haproxy.ratioMedian} ×, worst ${haproxy.ratioMax} ×). Of its ${haproxy.outOfRotationMs} ms out, online-wait takes ${haproxy.phasesMs['online-wait']} ms: after \`state ready\` HAProxy sends nothing until its own checks pass rise (${fleet.haproxyCheck.rise}) times, ${fleet.haproxyCheck.interMs / 1000} s apart.`,
    '',
    `aws-elbv2, API requests per run of ${HOSTS} hosts (probe-interval ${calls.probeInterval}): ${Object.entries(
      calls.perRun
    )
      .map(([action, n]) => `${action} ${n}`)
      .join(
        ', '
      )}; per host ${calls.perHost.DeregisterTargets} DeregisterTargets, ${calls.perHost.RegisterTargets} RegisterTargets, ${calls.perHost.DescribeTargetHealth} DescribeTargetHealth (less the one read at preflight).`
  ].join('\n')
}

const run = process.argv.includes('--render-only')
  ? async () => publish(JSON.parse(readFileSync(RESULTS, 'utf8')) as Results)
  : main
run().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
