// Every process the fleet starts is tracked here and killed when the test process exits, even
// after a failed assertion, so no sshd, nginx or HAProxy outlives its test.
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'

const running = new Set<ChildProcess>()

export function track(child: ChildProcess): ChildProcess {
  running.add(child)
  child.once('exit', () => running.delete(child))
  return child
}

/** Kills by pid (for daemons that fork away from the child we started, like nginx workers). */
const pids = new Set<number>()
export function trackPid(pid: number): void {
  pids.add(pid)
}
export function untrackPid(pid: number): void {
  pids.delete(pid)
}

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

/** The fields of /proc/PID/stat after the command name (state first), or undefined if gone. */
export function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name, in parentheses, may hold spaces: the fields start after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/**
 * Whether a process still runs. A killed process whose parent died stays a zombie until the
 * machine's init reaps it, which some containers' init never does: a zombie counts as gone.
 */
export function isRunning(pid: number): boolean {
  const state = procStat(pid)?.[0]
  return state !== undefined && state !== 'Z'
}
