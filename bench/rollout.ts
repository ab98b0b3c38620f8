// `npm run bench`: how fast a rollout goes on the local fleet (sshd + nginx + app per host behind
// HAProxy, under live traffic), side by side: the action with fixed waits, the action with probes
// reading HAProxy's admin socket, and the seed's own method (an ssh loop over appctl.sh with fixed
// sleeps). Against the lower bound the load balancer and the app allow. Also: the same pinned
// (fleet and action on separate CPUs), release mode, the guards' cost, cold start, a 50-host
// preflight and peak memory for a 50-host rollout. Prints the tables, writes bench/results.json,
// docs/benchmark.md's section between <!-- bench:start --> and <!-- bench:end -->, and the README's
// summary. Options: `--rounds N` (3 by default), `--note TEXT` (what else the machine was doing),
// `--render-only` (rewrite the text from bench/results.json).
import { setTimeout as pause } from 'node:timers/promises'
import { startFleet, type Fleet } from '../test/fleet/fleet.js'
import { CHECK } from '../test/fleet/haproxy.js'
import { observeWhile } from '../test/fleet/observe.js'
import { option, pinTree, unpinTree } from './common.js'
import { DOCS, failOnErrors, runBench, writeSection } from './publish.js'
import { coldStartMs, commandCost } from './rollout-costs.js'
import { fiftyHosts, machineBusyMs } from './rollout-fifty.js'
import { allErrors, judgeErrors, summarize, type Measured, type Results } from './rollout-judge.js'
import { baseMethods, guardMethods, HOSTS, releaseMethods, THINK_MS } from './rollout-methods.js'
import { render } from './rollout-render.js'
import { compare, measureApp } from './rollout-rounds.js'
import { writeSummary } from './summary.js'

const ROUNDS = Number(option('rounds') ?? 3)

/** Cores the fleet, HAProxy and the traffic keep busy on their own: what the runner is left with. */
async function trafficCores(fleet: Fleet): Promise<number> {
  const busy = async () => {
    const before = machineBusyMs()
    await pause(2000)
    return (machineBusyMs() - before) / 2000
  }
  return (await observeWhile(fleet, busy, THINK_MS)).result
}

/** The 4-host fleet's part: the lower bound and every comparison, unpinned and pinned. */
async function onTheFleet(fleet: Fleet) {
  await fleet.reset()
  const app = (await observeWhile(fleet, () => measureApp(fleet), THINK_MS)).result
  const cores = await trafficCores(fleet)
  const methods = await compare(fleet, baseMethods(fleet), ROUNDS)
  const releases = await compare(fleet, releaseMethods(fleet, undefined, 'unpinned'), ROUNDS)
  const guards = await compare(fleet, guardMethods(fleet), ROUNDS)
  // A runner apart from its hosts, as near as 2 cores allow: the fleet, HAProxy and the traffic
  // (this process) on CPU 0, the action and the seed's loop on CPU 1.
  console.log('Pinned: the fleet, HAProxy and the traffic on CPU 0; the action and the seed loop on CPU 1…')
  pinTree('0')
  await fleet.reset() // the apps start again from the pinned sshd
  const pinnedApp = (await observeWhile(fleet, () => measureApp(fleet), THINK_MS)).result
  const pinnedMethods = await compare(fleet, baseMethods(fleet, '1'), ROUNDS)
  const pinnedReleases = await compare(fleet, releaseMethods(fleet, '1', 'pinned'), ROUNDS)
  unpinTree()
  await fleet.reset()
  console.log('A small command: one exec each, or a long-lived shell…')
  const commands = await commandCost(fleet)
  return { app, trafficCores: cores, methods, releases, guards, pinnedApp, pinnedMethods, pinnedReleases, commands }
}

async function measure(): Promise<Results> {
  console.log(`Fleet: ${HOSTS} hosts, HAProxy inter ${CHECK.interMs} ms fall ${CHECK.fall} rise ${CHECK.rise}`)
  const fleet = await startFleet(HOSTS)
  let measured: Omit<Measured, 'rounds' | 'cold' | 'fifty'>
  try {
    measured = await onTheFleet(fleet)
  } finally {
    unpinTree()
    await fleet.close()
  }
  console.log('Cold start, 50-host preflight and memory…')
  const cold = await coldStartMs()
  const fifty = await fiftyHosts()
  return summarize({ ...measured, rounds: ROUNDS, cold, fifty })
}

/** Prints the tables and writes them into docs/benchmark.md, and the README's summary. */
function publish(results: Results) {
  const text = render(results, judgeErrors(results))
  console.log(`\n${text}`)
  writeSection(DOCS, 'bench', text)
  writeSummary()
  failOnErrors(allErrors(results))
}

runBench(new URL('./results.json', import.meta.url), measure, publish)
