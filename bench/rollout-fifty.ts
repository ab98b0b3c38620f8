// The rollout benchmark's 50-host part, on 50 real sshd with `true` for every command: preflight's
// time and CPU (a dry run), peak memory of a rollout in batches of 10, and what the guards (the
// deploy lock, an online-probe, the capacity floor) add to it.
import { readFileSync } from 'node:fs'
import { sampleProcess } from '../test/fleet/process-sampler.js'
import { connectionInputs, startSshFleet } from '../test/fleet/ssh-hosts.js'
import { runAction } from '../test/run-action.js'
import { interleave, median, round } from './common.js'

/** CPU time the whole machine spent busy so far (all cores; /proc/stat's first line, in ticks of 10 ms). */
export function machineBusyMs(): number {
  const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .split(/\s+/)
    .slice(1)
    .map(Number)
  return (user + nice + system + irq + softirq) * 10
}

/**
 * A dry run's preflight, three times: wall time, the action's CPU and the rest of the machine's
 * (the 50 sshd, mostly) between the preflight group's opening and closing lines.
 */
async function preflights(base: Record<string, string>) {
  const preflight: number[] = []
  const preflightCpuMs: number[] = []
  const othersCpuMs: number[] = []
  for (let i = 0; i < 3; i++) {
    const opened = { at: 0, action: 0, machine: 0 }
    const closed = { ...opened }
    const cpu = sampleProcess()
    const mark = (into: typeof opened) =>
      Object.assign(into, { at: performance.now(), action: cpu.cpuMs(), machine: machineBusyMs() })
    const onStdout = (chunk: string) => {
      if (!opened.at && chunk.includes('::group::Preflight')) mark(opened)
      if (opened.at && !closed.at && chunk.includes('::endgroup::')) mark(closed)
    }
    const run = await runAction({ ...base, 'dry-run': 'true' }, { onSpawn: cpu.watch, onStdout })
    cpu.stop()
    if (run.code !== 0) throw new Error(`50-host dry run failed: ${run.stdout}`)
    preflight.push(closed.at - opened.at)
    preflightCpuMs.push(closed.action - opened.action)
    othersCpuMs.push(closed.machine - opened.machine - (closed.action - opened.action))
  }
  return { preflight, preflightCpuMs, othersCpuMs }
}

/** Preflight of 50 real sshd hosts (dry-run), and peak RSS of a 50-host rollout in batches of 10. */
export async function fiftyHosts() {
  const fleet = await startSshFleet(50, { firstAddress: 2 + Math.floor(Math.random() * 150) })
  try {
    const base = {
      ...connectionInputs(fleet),
      'offline-command': 'true',
      'online-command': 'true',
      'start-command': 'true',
      'health-command': 'true',
      'offline-wait': '0',
      'online-wait': '0'
    }
    const measured = await preflights(base)
    const guards = await fiftyHostGuards(base)
    const sampler = sampleProcess()
    const started = performance.now()
    const run = await runAction({ ...base, 'batch-size': '10' }, { onSpawn: sampler.watch })
    const rolloutMs = performance.now() - started
    const { peakRssKb } = sampler.stop()
    if (run.code !== 0) throw new Error(`50-host rollout failed: ${run.stdout}`)
    return { ...measured, peakRssMb: peakRssKb / 1024, rolloutMs, guards }
  } finally {
    await fleet.close()
  }
}

export type FiftyHosts = Awaited<ReturnType<typeof fiftyHosts>>

/**
 * What the guards cost 50 hosts in batches of 10: the whole rollout without the lock, with it,
 * with an online-probe (`true`), and with the capacity floor on top (40 other hosts probed before
 * each batch); the lock's own time is its group's, taking 50 locks after preflight.
 */
async function fiftyHostGuards(base: Record<string, string>) {
  const probed = { 'online-probe': 'true', 'online-wait': '5s' }
  const variants: [string, Record<string, string>][] = [
    ['lock: false', { lock: 'false' }],
    ['lock: true (the default)', {}],
    ['lock, online-probe', probed],
    ['lock, online-probe, min-in-rotation: 40', { ...probed, 'min-in-rotation': '40' }]
  ]
  const lockMs: number[] = []
  const totals = await interleave(3, variants, async ([name, overrides]) => {
    let lockOpened = 0
    const onStdout = (chunk: string) => {
      if (chunk.includes('::group::Deploy lock')) lockOpened = performance.now()
      else if (lockOpened > 0 && chunk.includes('::endgroup::')) {
        lockMs.push(performance.now() - lockOpened)
        lockOpened = -1
      }
    }
    const started = performance.now()
    const run = await runAction({ ...base, 'batch-size': '10', ...overrides }, { onStdout })
    if (run.code !== 0) throw new Error(`50-host rollout (${name}) failed: ${run.stdout.slice(-2000)}`)
    return performance.now() - started
  })
  return {
    lockGroupMsMedian: round(median(lockMs)),
    variants: variants.map(([name], i) => ({ name, totalMs: round(median(totals[i])), runsMs: totals[i].map(round) }))
  }
}
