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
import { errorsOf, summarize, type RoundResult } from './lb-summary.js'
import { render, type Results } from './lb-render.js'

const HOSTS = 4
const ROUNDS = 3
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

/** Prints the table and writes it into the README; a non-zero exit on user-visible errors. */
function publish(results: Results) {
  const text = render(results, { hosts: HOSTS, rounds: ROUNDS, targetRatio: TARGET_RATIO })
  console.log(`\n${text}`)
  updateReadme('bench:lb', text)
  const errors = results.methods.reduce((sum, m) => sum + m.quick.errors + m.slow.errors, 0)
  if (errors > 0) {
    console.error(`\n${errors} user-visible errors: every method must have 0`)
    process.exitCode = 1
  }
}

const run = process.argv.includes('--render-only')
  ? async () => publish(JSON.parse(readFileSync(RESULTS, 'utf8')) as Results)
  : main
run().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
