// What the benchmarks share: medians and ratios, the machine they ran on, pinning the fleet apart
// from the action, rounds that interleave the methods, each host's time out of rotation from the
// action's report, and what users saw. Where the results are written: bench/publish.ts.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem } from 'node:os'
import type { Tally } from '../test/fleet/traffic.js'

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
export const round = (value: number) => Math.round(value)
export const medianIfAny = (values: number[]) => (values.length ? round(median(values)) : undefined)
/** A ratio as the results show it: two decimals. */
export const ratio = (value: number) => Number(value.toFixed(2))

/** What users would have seen: responses other than 200, and connection errors. */
export const errorsOf = (tally: Tally) =>
  Object.entries(tally.byStatus).reduce((sum, [status, n]) => sum + (status === '200' ? 0 : n), 0) +
  Object.values(tally.connectionErrors).reduce((sum, n) => sum + n, 0)

/**
 * Runs `one(method, round)` for every method, `rounds` times: round after round of all the
 * methods in turn, so a slow moment of a shared machine does not hit one method only.
 */
export async function interleave<M, R>(
  rounds: number,
  methods: readonly M[],
  one: (method: M, round: number) => Promise<R>
): Promise<R[][]> {
  const results = methods.map(() => [] as R[])
  for (let r = 0; r < rounds; r++) {
    for (const [i, method] of methods.entries()) results[i].push(await one(method, r))
  }
  return results
}

/** The steps a host is out of rotation for: offline through online-wait. */
export const OUT_OF_ROTATION = [
  'offline',
  'offline-wait',
  'drain',
  'stop',
  'deploy',
  'switch',
  'start',
  'health',
  'online',
  'online-wait'
]

/** One host's line of the action's `report` output. */
export interface HostLine {
  readonly host: string
  readonly stepsMs: Record<string, number>
}

export const hostLines = (report: string | undefined): HostLine[] => JSON.parse(report ?? '[]') as HostLine[]

/** The sum of a host's steps among `names` (absent ones count 0). */
export const stepSum = (host: HostLine, names: readonly string[]) =>
  names.reduce((sum, step) => sum + (host.stepsMs[step] ?? 0), 0)

/** The machine a bench ran on, as its results JSON holds it (older results have no load average). */
export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB?: number
  readonly kernel: string
  readonly node: string
  readonly loadAverage?: number
  /** What else the machine was doing, as whoever ran the bench said (`--note TEXT`). */
  readonly note?: string
}

/** The value after `--name` on the bench's command line, if any. */
export function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`)
  return at < 0 ? undefined : process.argv[at + 1]
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    /** This process's Node, which also runs dist/index.js (runAction spawns process.execPath) and the fleet's app. */
    node: process.version,
    /** The machine's load when the bench began (1-minute average): above 0 when other work shared it. */
    loadAverage: Number(loadavg()[0].toFixed(1)),
    note: option('note')
  }
}

/** The results' first words: when, on what machine and Node, and how busy it was when the bench began. */
export function measuredOn(date: string, m: Machine): string {
  const memory = m.memoryGiB === undefined ? '' : `, ${m.memoryGiB} GiB`
  const load =
    m.loadAverage === undefined
      ? ''
      : `; load average ${m.loadAverage} when it began${m.loadAverage >= 1 ? ' (other work shared the machine, so the figures are noisier than on an idle one)' : ''}`
  const note = m.note === undefined ? '' : `; ${m.note}`
  return `Measured ${date.slice(0, 10)} on ${m.cores} × ${m.cpu}${memory}, Linux ${m.kernel}, Node ${m.node}${load}${note}`
}

/** Sets the CPUs of this process (the traffic) and every process it started (the fleet, HAProxy), all their threads. */
export function pinTree(cpuList: string): void {
  const parents = new Map<number, number[]>()
  for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid=']).toString().trim().split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number)
    parents.set(ppid, [...(parents.get(ppid) ?? []), pid])
  }
  const tree = [process.pid]
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]) ?? []))
  for (const pid of tree) spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' })
}

/** Every CPU again for this process and its tree, after pinTree. */
export const unpinTree = () => pinTree(`0-${cpus().length - 1}`)
