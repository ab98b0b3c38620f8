// What the rollout benchmark measures on the 4-host fleet under live traffic: the app's own stop and
// start-to-healthy times (the lower bound's part), and rounds of every method, each run timed from
// spawn to exit and split by what the action's report says of each host.
import { setTimeout as pause } from 'node:timers/promises'
import { APPCTL, type Fleet } from '../test/fleet/fleet.js'
import { observeWhile } from '../test/fleet/observe.js'
import { sshRunAsync } from '../test/fleet/ssh-hosts.js'
import type { ActionRun } from '../test/run-action.js'
import { errorsOf, hostLines, interleave, OUT_OF_ROTATION, stepSum, round } from './common.js'
import { THINK_MS, type Method } from './rollout-methods.js'

export interface AppTimings {
  stopMs: number
  startToHealthyMs: number
}

/** Polls the app on `host` directly every 2 ms until it serves v2: the time it did, or 0 if never. */
async function healthyAt(fleet: Fleet, host: Fleet['hosts'][number]): Promise<number> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await pause(2)) {
    const answer = await fetch(`http://${host.address}:${fleet.appPort}/health`)
      .then(async (response) => (response.status === 200 ? await response.text() : ''))
      .catch(() => '')
    if (answer.includes('version=v2')) return Date.now()
  }
  return 0
}

/**
 * The app's own stop and start-to-healthy times on each host, measured on the host (stop) and by
 * polling the app directly (healthy); the fleet's clocks are one clock. Run under the same live
 * traffic as the methods, each host out of rotation while it is measured.
 */
export async function measureApp(fleet: Fleet): Promise<AppTimings[]> {
  const timings = []
  for (const host of fleet.hosts) {
    await sshRunAsync(fleet.ssh, host, `${APPCTL} offline`)
    await fleet.waitForStates((states) => states.get(host.name) === 'DOWN')
    const stamps = await sshRunAsync(
      fleet.ssh,
      host,
      `a=$(date +%s%N); ${APPCTL} stop; b=$(date +%s%N); ${APPCTL} deploy v2; c=$(date +%s%N); ${APPCTL} start; echo "$a $b $c"`
    )
    const [stopBegan, stopEnded, startBegan] = stamps
      .trim()
      .split(' ')
      .map((ns) => Number(ns) / 1e6)
    const healthy = await healthyAt(fleet, host)
    if (healthy === 0) throw new Error(`${host.name} never became healthy while measuring`)
    timings.push({ stopMs: stopEnded - stopBegan, startToHealthyMs: healthy - startBegan })
    await sshRunAsync(fleet.ssh, host, `${APPCTL} online`)
    await fleet.waitForStates((states) => states.get(host.name) === 'UP')
  }
  return timings
}

/** One run of a method under the traffic: wall time, and (the action's runs) its report's figures. */
interface RunResult {
  totalMs: number
  /** The action's offline and online steps: one small command (`rm -f`, `touch`) each. */
  commandMs: number[]
  /** Every host's time in each step, from the action's report. */
  stepsMs: Record<string, number[]>
  /** Each host's time out of rotation (offline through online-wait), from the action's report. */
  outOfRotationMs: number[]
  /** The action's spawn to its first batch, and its last batch to its exit. */
  startupAndPreflightMs?: number
  afterRolloutMs?: number
  errors: number
  requests: number
  maxOutOfRotation: number
}

/** A method's runs over every round, each figure gathered. */
export interface MethodResult extends Omit<RunResult, 'totalMs' | 'startupAndPreflightMs' | 'afterRolloutMs'> {
  method: string
  totalMs: number[]
  startupAndPreflightMs: number[]
  afterRolloutMs: number[]
}

/** Times one run of `run`, marking the action's first batch in its log (the seed's loop has none). */
async function timed(name: string, run: Method['run'], r: number) {
  const started = performance.now()
  let firstBatchAt: number | undefined
  const onStdout = (chunk: string) => {
    if (firstBatchAt === undefined && chunk.includes('::group::Batch 1/')) firstBatchAt = performance.now()
  }
  const outcome = (await run({ onStdout }, r)) as Partial<ActionRun> | undefined
  const totalMs = performance.now() - started
  if (outcome?.code !== undefined && outcome.code !== 0) {
    throw new Error(`${name}: the action failed (exit ${outcome.code}): ${outcome.stdout?.slice(-2000)}`)
  }
  const hosts = hostLines(outcome?.outputs?.report)
  const stepsMs: Record<string, number[]> = {}
  for (const host of hosts) for (const [step, ms] of Object.entries(host.stepsMs)) (stepsMs[step] ??= []).push(ms)
  // Start-up and preflight, then the batches (the action's duration-ms), then the report and exit.
  const startup = firstBatchAt === undefined ? undefined : firstBatchAt - started
  return {
    totalMs,
    commandMs: hosts.flatMap((host) => [host.stepsMs.offline, host.stepsMs.online]),
    stepsMs,
    outOfRotationMs: hosts.map((host) => stepSum(host, OUT_OF_ROTATION)),
    startupAndPreflightMs: startup,
    afterRolloutMs: startup === undefined ? undefined : totalMs - startup - Number(outcome?.outputs?.['duration-ms'])
  }
}

/** One run of `method` from a fresh fleet under the traffic; fails if any host is not on its version. */
async function runOnce(fleet: Fleet, { name, run, version }: Method, r: number): Promise<RunResult> {
  await fleet.reset()
  const seen = await observeWhile(fleet, () => timed(name, run, r), THINK_MS)
  for (const host of fleet.hosts) {
    if ((await fleet.version(host)) !== version(r)) throw new Error(`${name}: ${host.name} is not on ${version(r)}`)
  }
  const errors = errorsOf(seen.tally)
  console.log(`  round ${r + 1}, ${name}: ${round(seen.result.totalMs)} ms, ${errors} errors`)
  return { ...seen.result, errors, requests: seen.tally.requests, maxOutOfRotation: seen.maxOutOfRotation }
}

/** `rounds` runs of every method, the rounds interleaved; each method's runs gathered. */
export async function compare(fleet: Fleet, methods: readonly Method[], rounds: number): Promise<MethodResult[]> {
  const runs = await interleave(rounds, methods, (method, r) => runOnce(fleet, method, r))
  const defined = (values: (number | undefined)[]) => values.filter((value) => value !== undefined)
  return methods.map(({ name }, i) => ({
    method: name,
    totalMs: runs[i].map((run) => run.totalMs),
    commandMs: runs[i].flatMap((run) => run.commandMs),
    stepsMs: Object.fromEntries(
      [...new Set(runs[i].flatMap((run) => Object.keys(run.stepsMs)))].map((step) => [
        step,
        runs[i].flatMap((run) => run.stepsMs[step] ?? [])
      ])
    ),
    outOfRotationMs: runs[i].flatMap((run) => run.outOfRotationMs),
    startupAndPreflightMs: defined(runs[i].map((run) => run.startupAndPreflightMs)),
    afterRolloutMs: defined(runs[i].map((run) => run.afterRolloutMs)),
    errors: runs[i].reduce((sum, run) => sum + run.errors, 0),
    requests: runs[i].reduce((sum, run) => sum + run.requests, 0),
    maxOutOfRotation: Math.max(...runs[i].map((run) => run.maxOutOfRotation))
  }))
}
