// The big-fleet bench's text (bench/fleet.ts): the rollouts side by side, the dry runs with how
// their times grow from 50 to 500 to 2,000 hosts, and a text plot of that growth.
import type { ConnectionCounts } from '../test/fleet/big-rollout.js'
import { measuredOn, type Machine } from './common.js'

interface Counters {
  /** Why the run failed, if it did (its first error). */
  failure?: string
  /** Log lines "connection attempt N failed" (each retried or given up) and "the SSH connection was lost". */
  handshakeFailures: number
  connectionsLost: number
  wallMs: number
  /** How long the fleet's core (every host's sshd and sessions) was busy during the run. */
  fleetCpuMs?: number
  preflightMs: number
  peakRssMb: number
  peakFds: number
  firstFds: number
  cpuMs: number
  connections?: ConnectionCounts
  summaryBytes: number
}

export interface RolloutRow extends Counters {
  hosts: number
  batches: number
  durationMs: number
  lowerBoundMs: number
  overLowerBound: number
  /** The whole process (preflight, lock, batches, the lock given back) over the lower bound. */
  wallOverLowerBound?: number
  handshakeDrops: number
}

export interface DryRunRow extends Counters {
  hosts: number
}

export interface FleetResults {
  date: string
  machine: Machine
  pinned: { fleet: string; action: string }
  setup: { hosts: number; ms: number }
  batchLowerBoundMs: number
  rollouts: RolloutRow[]
  dryRuns: DryRunRow[]
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
const connections = (row: Counters) =>
  row.connections
    ? `${row.connections.peakOpen} of ${row.connections.limit} (${row.connections.opened} opened, ${row.connections.handshakeRetries} retried)`
    : 'not counted (no max-connections yet)'

/** The fleet core's busy time, and its share of the run: near 100%, the hosts' own work set the pace. */
const fleetBusy = (row: Counters) =>
  row.fleetCpuMs === undefined
    ? 'not measured'
    : `${seconds(row.fleetCpuMs)} (${Math.round((row.fleetCpuMs / row.wallMs) * 100)}%)`

const table = (header: string[], rows: string[][]) => [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '--:').join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`)
]

/** `value` as a multiple of the row before (the growth from one size to the next). */
const growth = (rows: DryRunRow[], pick: (row: DryRunRow) => number, i: number) =>
  i === 0 ? '' : ` (×${(pick(rows[i]) / pick(rows[i - 1])).toFixed(1)})`

function rolloutTable(results: FleetResults): string[] {
  return table(
    [
      'hosts',
      'batches',
      'rollout (duration-ms)',
      'lower bound',
      '× lower bound',
      'whole run',
      'fleet core busy',
      'preflight',
      'peak RSS',
      'peak fds',
      'connections at once',
      'dropped by sshd / attempts failed / lost',
      'summary'
    ],
    results.rollouts.map((row) => [
      String(row.hosts),
      String(row.batches),
      row.failure ? `failed after ${seconds(row.wallMs)}: ${row.failure}` : seconds(row.durationMs),
      seconds(row.lowerBoundMs),
      `${row.overLowerBound}×`,
      row.wallOverLowerBound === undefined
        ? seconds(row.wallMs)
        : `${seconds(row.wallMs)} (${row.wallOverLowerBound}×)`,
      fleetBusy(row),
      seconds(row.preflightMs),
      `${row.peakRssMb} MB`,
      String(row.peakFds),
      connections(row),
      `${row.handshakeDrops} / ${row.handshakeFailures} / ${row.connectionsLost}`,
      kib(row.summaryBytes)
    ])
  )
}

function dryRunTable(results: FleetResults): string[] {
  const rows = results.dryRuns
  return table(
    [
      'hosts',
      'preflight',
      'dry run (whole process)',
      'action CPU',
      'fleet core busy',
      'peak RSS',
      'peak fds',
      'connections at once'
    ],
    rows.map((row, i) => [
      String(row.hosts),
      row.failure ? `failed: ${row.failure}` : seconds(row.preflightMs) + growth(rows, (r) => r.preflightMs, i),
      seconds(row.wallMs) + growth(rows, (r) => r.wallMs, i),
      seconds(row.cpuMs),
      fleetBusy(row),
      `${row.peakRssMb} MB` + growth(rows, (r) => r.peakRssMb, i),
      String(row.peakFds),
      connections(row)
    ])
  )
}

/** A bar per dry run, its length the preflight's time: how it grows with the fleet. */
function plot(results: FleetResults): string[] {
  const longest = Math.max(...results.dryRuns.map((row) => row.preflightMs))
  const bar = (ms: number) => '█'.repeat(Math.max(1, Math.round((ms / longest) * 50)))
  return [
    '```text',
    'preflight time (dry run), one █ per 2% of the longest',
    ...results.dryRuns.map(
      (row) => `${String(row.hosts).padStart(5)} hosts ${bar(row.preflightMs)} ${seconds(row.preflightMs)}`
    ),
    '```'
  ]
}

export function renderFleet(results: FleetResults): string {
  const { fleet, action } = results.pinned
  return [
    `${measuredOn(results.date, results.machine)}. Pinned: every host's sshd and sessions on CPU ${fleet}, the action on CPU ${action} (taskset); all figures below are pinned. ` +
      `${results.setup.hosts} hosts started in ${seconds(results.setup.ms)}. Each batch's lower bound is ${seconds(results.batchLowerBoundMs)}: offline-wait, three commands of a known sleep, online-wait. One run each.`,
    '',
    ...rolloutTable(results),
    '',
    ...dryRunTable(results),
    '',
    ...plot(results)
  ].join('\n')
}
