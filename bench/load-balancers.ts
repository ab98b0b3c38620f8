// `npm run bench:lb` (and the second half of `npm run bench`): how long each host is out of rotation
// behind a load balancer with production-like health checks (HAProxy inter 2 s fall 3 rise 2), the
// health file with probes beside load-balancer: haproxy, each rolled ROUNDS times in turn under
// quick and 2 s traffic, then load-balancer: aws-elbv2 against the ELBv2 stand-in with its API
// requests counted. Pinned: the fleet, HAProxy, the stand-in and the traffic on CPU 0, the action
// on CPU 1. Prints a table, writes bench/lb-results.json, docs/benchmark.md's section between
// <!-- bench:lb:start --> and <!-- bench:lb:end --> and the README's summary. Options: `--rounds N`
// (3 by default), `--note TEXT` (what else the machine was doing), `--render-only` (rewrite the
// text from bench/lb-results.json).
import { startFleet } from '../test/fleet/fleet.js'
import type { Check } from '../test/fleet/haproxy.js'
import { errorsOf, interleave, machine, option, pinTree, unpinTree } from './common.js'
import { apiCalls, benchElbv2, GROUP } from './lb-elbv2.js'
import { ABRUPT_V1, haproxyMethods, rollBehindHaproxy, TRAFFIC } from './lb-haproxy.js'
import { summarize } from './lb-summary.js'
import { render, type Results } from './lb-render.js'
import { DOCS, failOnErrors, runBench, writeSection } from './publish.js'
import { writeSummary } from './summary.js'

const HOSTS = 4
const ROUNDS = Number(option('rounds') ?? 3)
/** Production-like: HAProxy's own default inter, 3 failures out, 2 successes in. */
const CHECK: Check = { interMs: 2000, fall: 3, rise: 2 }
/** Issue 19: load-balancer: haproxy keeps each host out no longer than this × (stop → healthy + drain). */
const TARGET_RATIO = 1.2

/** Both ways of leaving HAProxy, rounds interleaved, then aws-elbv2: all pinned. */
async function rollFleet() {
  const fleet = await startFleet(HOSTS, undefined, {}, { lbHosts: 1, check: CHECK })
  try {
    console.log('Pinned: the fleet, HAProxy, the stand-in and the traffic on CPU 0; the action on CPU 1')
    pinTree('0')
    await fleet.reset(ABRUPT_V1) // the apps start again from the pinned sshd
    const methods = haproxyMethods(fleet)
    const rounds = await interleave(ROUNDS, methods, async (method, r) => {
      const result = await rollBehindHaproxy(fleet, method)
      const errors = errorsOf(result.quick) + errorsOf(result.slow)
      console.log(`  round ${r + 1}, ${method.name}: ${Math.round(result.totalMs)} ms, ${errors} errors`)
      return result
    })
    const elbv2 = await benchElbv2(fleet, ROUNDS)
    return { haproxy: methods.map((method, i) => summarize(method.name, rounds[i])), elbv2 }
  } finally {
    unpinTree()
    await fleet.close()
  }
}

async function measure(): Promise<Results> {
  console.log(
    `Fleet: ${HOSTS} hosts and an LB host, HAProxy inter ${CHECK.interMs} ms fall ${CHECK.fall} rise ${CHECK.rise}`
  )
  const { haproxy, elbv2 } = await rollFleet()
  const aws = summarize('load-balancer: aws-elbv2 (ELBv2 stand-in)', elbv2)
  return {
    date: new Date().toISOString(),
    machine: machine(),
    pinned: 'the fleet, HAProxy, the stand-in and the traffic on CPU 0; the action on CPU 1 (taskset)',
    fleet: { hosts: HOSTS, rounds: ROUNDS, haproxyCheck: CHECK, elbv2Group: GROUP, traffic: TRAFFIC },
    methods: [...haproxy, aws],
    elbv2ApiCalls: apiCalls(elbv2, HOSTS)
  }
}

/** Prints the table and writes it into docs/benchmark.md, and the README's summary. */
function publish(results: Results) {
  const text = render(results, { hosts: HOSTS, rounds: results.fleet.rounds, targetRatio: TARGET_RATIO })
  console.log(`\n${text}`)
  writeSection(DOCS, 'bench:lb', text)
  writeSummary()
  failOnErrors(results.methods.reduce((sum, m) => sum + m.quick.errors + m.slow.errors, 0))
}

runBench(new URL('./lb-results.json', import.meta.url), measure, publish)
