// Reads a process's own counters from /proc while it runs: peak RSS (VmHWM), CPU time and open file
// descriptors. The last reading before it exits stands for its end (/proc/PID goes with it).
import { readdirSync, readFileSync } from 'node:fs'
import { procStat } from './processes.js'

export interface ProcessPeaks {
  peakRssKb: number
  cpuMs: number
  /** The most file descriptors open at one reading, and the first reading's (the process's own). */
  peakFds: number
  firstFds: number
  samples: number
}

/** Samples every `everyMs` once `watch(pid)` names the process; `stop` gives the peaks. */
export function sampleProcess(everyMs = 10) {
  let pid = 0
  const peaks: ProcessPeaks = { peakRssKb: 0, cpuMs: 0, peakFds: 0, firstFds: 0, samples: 0 }
  const timer = setInterval(() => {
    if (pid === 0) return
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      peaks.peakRssKb = Math.max(peaks.peakRssKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0))
      const [utime, stime] = (procStat(pid) ?? []).slice(11, 13).map(Number) // fields 14 and 15
      if (utime !== undefined) peaks.cpuMs = (utime + stime) * 10 // clock ticks of 10 ms
      const fds = readdirSync(`/proc/${pid}/fd`).length
      if (peaks.samples++ === 0) peaks.firstFds = fds
      peaks.peakFds = Math.max(peaks.peakFds, fds)
    } catch {
      // not started yet, or gone
    }
  }, everyMs)
  return {
    watch: (spawned: number) => (pid = spawned),
    cpuMs: () => peaks.cpuMs,
    stop: (): ProcessPeaks => {
      clearInterval(timer)
      return { ...peaks }
    }
  }
}
