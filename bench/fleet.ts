// `npm run bench:fleet`: the simulated big fleet (test/fleet/big-fleet.ts, an sshd per 127.1.x.y
// address at MaxStartups 10:30:100), 2,000 hosts started once. A rollout of 500 hosts at
// batch-size 10% side by side with the same at 50, against the sum of their batches' lower bounds;
// dry runs (preflight of every host, no rollout) of 50, 500 and 2,000 hosts. Pinned: the hosts' sshd
// (and their sessions) on CPU 0, the action on CPU 1. Writes bench/fleet-results.json,
// docs/benchmark.md's section between <!-- bench:fleet:start --> and <!-- bench:fleet:end -->, and
// the README's row. Options: `--note TEXT`, `--render-only`, `--rollouts`, `--dry-runs` (below).
import { readFileSync } from 'node:fs'
import { startBigFleet, type BigFleet } from '../test/fleet/big-fleet.js'
import { batchLowerBoundMs, bigRolloutInputs, connectionCounts, seedBigFleet } from '../test/fleet/big-rollout.js'
import { sampleProcess } from '../test/fleet/process-sampler.js'
import { annotationsOf, runAction, type ActionRun } from '../test/run-action.js'
import { machine, option, round } from './common.js'
import { renderFleet, type DryRunRow, type FleetResults, type RolloutRow } from './fleet-render.js'
import { DOCS, runBench, writeSection } from './publish.js'
import { writeSummary } from './summary.js'

const FLEET_CPU = '0'
const ACTION_CPU = '1'
const BATCHES = 10
/** Fleet sizes: `--rollouts 50,500` and `--dry-runs 50,500,2000` (the defaults) for a shorter run. */
const sizes = (name: string, fallback: string) => (option(name) ?? fallback).split(',').map(Number)
const ROLLOUT_SIZES = sizes('rollouts', '50,500')
const DRY_RUN_SIZES = sizes('dry-runs', '50,500,2000')

/** Milliseconds between the `::group::Preflight` line and the next `::endgroup::` in the action's log. */
function preflightTimer() {
  const at = { opened: 0, closed: 0 }
  return {
    onStdout(chunk: string) {
      if (!at.opened && chunk.includes('::group::Preflight')) at.opened = performance.now()
      if (at.opened && !at.closed && chunk.includes('::endgroup::')) at.closed = performance.now()
    },
    ms: () => round(at.closed - at.opened)
  }
}

/**
 * Milliseconds CPU `cpu` has been busy since boot (/proc/stat, in USER_HZ ticks of 10 ms): across a
 * run, how much of the fleet's core its hosts' sshd and sessions used.
 */
function cpuBusyMs(cpu: string): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((text) => text.startsWith(`cpu${cpu} `))
  const [user, nice, system, , , irq, softirq, steal] = (line ?? '').split(/\s+/).slice(1).map(Number)
  return (user + nice + system + irq + softirq + steal) * 10
}

/** The run's first error annotation, its first line. */
const failureOf = (stdout: string) =>
  annotationsOf(stdout)
    .find((annotation) => annotation.level === 'error')
    ?.message.split('\n')[0]

/** One run of the action on CPU 1, with its own counters read from /proc meanwhile. */
async function measuredRun(inputs: Record<string, string>, what: string) {
  const sampler = sampleProcess(20)
  const preflight = preflightTimer()
  const started = performance.now()
  const fleetBusyAtStart = cpuBusyMs(FLEET_CPU)
  // A run that cannot even start (E2BIG: an input past the 128 KiB one environment variable may
  // hold) is a failed row too, not the end of the bench and every figure it had.
  const run = await runAction(inputs, {
    onSpawn: sampler.watch,
    onStdout: preflight.onStdout,
    cpus: ACTION_CPU,
    timeoutMs: 1_800_000
  }).catch((error: unknown): ActionRun => ({
    code: null,
    signal: null,
    stdout: `::error::could not start the action: ${error instanceof Error ? error.message : String(error)}\n`,
    stderr: '',
    outputs: {},
    summary: '',
    leftOnDisk: []
  }))
  const wallMs = round(performance.now() - started)
  const fleetCpuMs = cpuBusyMs(FLEET_CPU) - fleetBusyAtStart
  const peaks = sampler.stop()
  // A failed run is a result too (at 500 hosts on a saturated machine, handshakes time out): kept
  // with its reason, and the bench goes on to the next.
  const failure = run.code === 0 ? undefined : (failureOf(run.stdout) ?? `exit ${run.code ?? run.signal}`)
  if (failure) console.error(`${what} failed: ${failure}`)
  console.log(
    `${what}: ${wallMs} ms, preflight ${preflight.ms()} ms, fleet CPU ${fleetCpuMs} ms, peak RSS ${round(peaks.peakRssKb / 1024)} MB`
  )
  return {
    run,
    common: {
      failure,
      handshakeFailures: run.stdout.match(/connection attempt \d+ failed/g)?.length ?? 0,
      connectionsLost: run.stdout.match(/the SSH connection was lost/g)?.length ?? 0,
      wallMs,
      fleetCpuMs,
      preflightMs: preflight.ms(),
      peakRssMb: round(peaks.peakRssKb / 1024),
      peakFds: peaks.peakFds,
      firstFds: peaks.firstFds,
      cpuMs: peaks.cpuMs,
      connections: connectionCounts(run.outputs)
    }
  }
}

async function rollout(fleet: BigFleet, size: number): Promise<RolloutRow> {
  const hosts = fleet.hosts.slice(0, size)
  seedBigFleet(fleet, hosts)
  const drops = fleet.sshdLogLines('past MaxStartups').length
  const { run, common } = await measuredRun(bigRolloutInputs(fleet, 'v2', '10%', hosts), `rollout of ${size}`)
  const lowerBoundMs = BATCHES * batchLowerBoundMs()
  const durationMs = Number(run.outputs['duration-ms'])
  return {
    hosts: size,
    batches: BATCHES,
    ...common,
    durationMs,
    lowerBoundMs,
    overLowerBound: Number((durationMs / lowerBoundMs).toFixed(2)),
    wallOverLowerBound: Number((common.wallMs / lowerBoundMs).toFixed(2)),
    summaryBytes: Buffer.byteLength(run.summary),
    handshakeDrops: fleet.sshdLogLines('past MaxStartups').length - drops
  }
}

async function dryRun(fleet: BigFleet, size: number): Promise<DryRunRow> {
  // Batches of 50 at every size: 10% of 2,000 (200) would not fit in the 60 connections, and is refused.
  const inputs = { ...bigRolloutInputs(fleet, 'v2', '50', fleet.hosts.slice(0, size)), 'dry-run': 'true' }
  const { run, common } = await measuredRun(inputs, `dry run of ${size}`)
  return { hosts: size, ...common, summaryBytes: Buffer.byteLength(run.summary) }
}

async function measure(): Promise<FleetResults> {
  const most = Math.max(...DRY_RUN_SIZES, ...ROLLOUT_SIZES)
  const started = performance.now()
  const fleet = await startBigFleet(most, FLEET_CPU)
  const setupMs = round(performance.now() - started)
  console.log(`${most} hosts started in ${setupMs} ms (their sshd on CPU ${FLEET_CPU})`)
  try {
    const rollouts: RolloutRow[] = []
    for (const size of ROLLOUT_SIZES) rollouts.push(await rollout(fleet, size))
    const dryRuns: DryRunRow[] = []
    for (const size of DRY_RUN_SIZES) dryRuns.push(await dryRun(fleet, size))
    return {
      date: new Date().toISOString(),
      machine: machine(),
      pinned: { fleet: FLEET_CPU, action: ACTION_CPU },
      setup: { hosts: most, ms: setupMs },
      batchLowerBoundMs: batchLowerBoundMs(),
      rollouts,
      dryRuns
    }
  } finally {
    await fleet.close()
  }
}

function publish(results: FleetResults) {
  const text = renderFleet(results)
  console.log(`\n${text}`)
  writeSection(DOCS, 'bench:fleet', text)
  writeSummary()
}

runBench(new URL('./fleet-results.json', import.meta.url), measure, publish)
