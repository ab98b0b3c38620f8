// What the benchmarks share: medians, the machine they ran on, pinning the fleet apart from the
// action, each host's time out of rotation from the action's report, and their README sections.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
export const round = (value: number) => Math.round(value)
export const medianIfAny = (values: number[]) => (values.length ? round(median(values)) : undefined)

/** The phases a host is out of rotation for: offline through online-wait. */
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
  readonly phasesMs: Record<string, number>
}

export const hostLines = (report: string | undefined): HostLine[] => JSON.parse(report ?? '[]') as HostLine[]

/** The sum of a host's phases among `names` (absent ones count 0). */
export const phaseSum = (host: HostLine, names: readonly string[]) =>
  names.reduce((sum, phase) => sum + (host.phasesMs[phase] ?? 0), 0)

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version
  }
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

/** Replaces the README's text between `<!-- NAME:start -->` and `<!-- NAME:end -->`; none there, nothing. */
export function updateReadme(name: string, text: string): void {
  const path = new URL('../README.md', import.meta.url)
  const readme = readFileSync(path, 'utf8')
  const [start, end] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`]
  const from = readme.indexOf(start)
  const to = readme.indexOf(end, from)
  if (from < 0 || to < 0) return
  writeFileSync(path, `${readme.slice(0, from + start.length)}\n${text}\n${readme.slice(to)}`)
}
