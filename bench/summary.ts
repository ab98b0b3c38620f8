// The README's short benchmark table: the headline figures of both benchmarks, one row per method,
// rebuilt from bench/results.json and bench/lb-results.json whenever either bench publishes (each
// writes its own full section of docs/benchmark.md).
import { existsSync, readFileSync } from 'node:fs'
import type { Results as LbResults } from './lb-render.js'
import { DOCS, README, writeSection } from './publish.js'
import type { Results as RolloutResults } from './rollout-judge.js'

const ROLLOUT = new URL('./results.json', import.meta.url)
const LB = new URL('./lb-results.json', import.meta.url)

const read = <T>(url: URL): T | undefined =>
  existsSync(url) ? (JSON.parse(readFileSync(url, 'utf8')) as T) : undefined
const ms = (value: number | undefined) => (value === undefined ? '—' : `${value} ms`)
const major = (node: string) => node.split('.')[0]

type Row = [bench: string, method: string, rollout: string, out: string, errors: string, node: string, pinned: string]

function rolloutRows(results: RolloutResults): Row[] {
  const node = major(results.machine.node)
  const bench = `rollout, ${results.date.slice(0, 10)}`
  return results.methods.map((row) => [
    bench,
    row.method,
    `${row.totalMs} ms (${row.overLowerBound} × the lower bound)`,
    ms(row.outOfRotationPerHostMs),
    `${row.errors} of ${row.requests}`,
    node,
    'no'
  ])
}

function lbRows(results: LbResults): Row[] {
  const node = major(results.machine.node)
  const bench = `load balancers, ${results.date.slice(0, 10)}`
  return results.methods.map((row) => [
    bench,
    row.method,
    ms(row.totalMs),
    `${ms(row.outOfRotationMs)} (${row.ratio.median} × stop → healthy + drain)`,
    `${row.quick.errors + row.slow.errors} of ${row.quick.requests + row.slow.requests}`,
    node,
    'yes'
  ])
}

/** The table, from whichever results exist. */
export function renderSummary(rollout?: RolloutResults, lb?: LbResults): string {
  const rows = [...(rollout ? rolloutRows(rollout) : []), ...(lb ? lbRows(lb) : [])]
  return [
    `Medians on the local fleet (4 hosts behind HAProxy under live traffic; the rollout bench's HAProxy checks every ${rollout ? rollout.fleet.haproxy.interMs : 100} ms, the load-balancer bench's every 2 s, as in production). Pinned: the fleet on one CPU, the action on the other. Every table, the lower bound and the machine: [docs/benchmark.md](${DOCS}).`,
    '',
    '| bench, measured | method | rollout of 4 hosts | out of rotation per host | user-visible errors (of requests) | Node | pinned |',
    '| --- | --- | --: | --: | --: | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`)
  ].join('\n')
}

/** Rewrites the README's table from both results files. */
export function writeSummary(): void {
  writeSection(README, 'bench:summary', renderSummary(read<RolloutResults>(ROLLOUT), read<LbResults>(LB)))
}
