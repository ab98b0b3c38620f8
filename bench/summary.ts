// The README's short benchmark table: the headline figures of both benchmarks, one row per method,
// rebuilt from bench/results.json and bench/lb-results.json whenever either bench publishes (each
// writes its own full section of docs/benchmark.md).
import { existsSync, readFileSync } from 'node:fs'
import type { Results as LbResults } from './lb-render.js'
import { DOCS, README, writeSection } from './publish.js'
import type { Results as RolloutResults } from './rollout-judge.js'
import type { FleetResults } from './fleet-render.js'

const ROLLOUT = new URL('./results.json', import.meta.url)
const LB = new URL('./lb-results.json', import.meta.url)
const FLEET = new URL('./fleet-results.json', import.meta.url)

const read = <T>(url: URL): T | undefined =>
  existsSync(url) ? (JSON.parse(readFileSync(url, 'utf8')) as T) : undefined
const ms = (value: number | undefined) => (value === undefined ? '—' : `${value} ms`)

type Row = [method: string, rollout: string, out: string, errors: string]

const rolloutRows = (results: RolloutResults): Row[] =>
  results.methods.map((row) => [
    row.method,
    `${row.totalMs} ms (${row.overLowerBound}×)`,
    ms(row.outOfRotationPerHostMs),
    `${row.errors}/${row.requests}`
  ])

const lbRows = (results: LbResults): Row[] =>
  results.methods.map((row) => [
    row.method,
    ms(row.totalMs),
    `${ms(row.outOfRotationMs)} (${row.ratio.median}×)`,
    `${row.quick.errors + row.slow.errors}/${row.quick.requests + row.slow.requests}`
  ])

/**
 * The big-fleet bench's rollouts, a row each (no traffic there: no errors column): the whole run
 * against the sum of its batches' lower bounds, and how busy the hosts' one core was meanwhile.
 */
const fleetRows = (results: FleetResults): Row[] =>
  results.rollouts.map((row) => [
    `${row.hosts} simulated hosts, 10% batches` +
      (row.fleetCpuMs === undefined ? '' : `, core ${Math.round((row.fleetCpuMs / row.wallMs) * 100)}% busy`),
    row.failure
      ? `failed after ${row.wallMs} ms`
      : `${row.wallMs} ms (${row.wallOverLowerBound ?? row.overLowerBound}×)`,
    '—',
    '—'
  ])

/** When and how a bench measured: its date and checks, whether it was pinned (Node and the machine: docs/benchmark.md). */
const measured = (date: string, checks: string, pinned: boolean) =>
  `${date.slice(0, 10)}, checks every ${checks}, ${pinned ? 'pinned' : 'not pinned'}`

/** The table, from whichever results exist: the rollout bench's rows first, then the load balancers'. */
export function renderSummary(rollout?: RolloutResults, lb?: LbResults, fleet?: FleetResults): string {
  const rows = [...(rollout ? rolloutRows(rollout) : []), ...(lb ? lbRows(lb) : []), ...(fleet ? fleetRows(fleet) : [])]
  const benches = [
    rollout && `rollout bench ${measured(rollout.date, `${rollout.fleet.haproxy.interMs} ms`, false)}`,
    lb && `load-balancer bench ${measured(lb.date, '2 s', true)}`
  ].filter((text) => text !== undefined)
  const simulated = fleet && `; simulated hosts ${fleet.date.slice(0, 10)}, pinned`
  return [
    `Medians, 4 hosts behind HAProxy under live traffic: ${benches.join('; ')}${simulated ?? ''}. Details: [docs/benchmark.md](${DOCS}).`,
    '',
    '| method | rollout (× its lower bound) | out of rotation per host (× stop → healthy + drain) | errors/requests |',
    '| --- | --: | --: | --: |',
    ...rows.map((row) => `| ${row.join(' | ')} |`)
  ].join('\n')
}

/** Rewrites the README's table from both results files. */
export function writeSummary(): void {
  const results = [read<RolloutResults>(ROLLOUT), read<LbResults>(LB), read<FleetResults>(FLEET)] as const
  writeSection(README, 'bench:summary', renderSummary(...results))
}
