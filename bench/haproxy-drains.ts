// Each server's time out of rotation and its drain as HAProxy itself counted them, whatever took it
// out (its own failed checks, or the runtime API's `drain`): out from the first `show stat` that
// shows it anything but UP (DOWN, DRAIN, MAINT; "UP 1/3", failing checks, is still in) to the first that
// shows it UP again; drained once that stretch first shows no session on it (scur 0). Back from
// maintenance (`state ready`), HAProxy shows it `UP 1/3` (in rotation, one failed check from DOWN)
// until its next check passes, then `UP`: how long that takes is what the action's online-wait waits
// for beyond HAProxy's own view.
import { setTimeout as pause } from 'node:timers/promises'
import { adminCommand, outOfRotation, parseColumn, type LoadBalancer } from '../test/fleet/haproxy.js'

export interface ServerStretches {
  /** Each stretch out of rotation, ms. */
  readonly outMs: number[]
  /** Each stretch's drain: from its start until HAProxy counted no session on the server, ms. */
  readonly drainMs: number[]
  /** Each time back in rotation: from HAProxy's first state UP-something (`UP 1/3`) to plain UP, ms. */
  readonly confirmMs: number[]
}

export interface Drains {
  readonly byServer: Map<string, ServerStretches>
  /** The most servers out at once. */
  readonly maxOut: number
}

/** Samples `lb`'s `show stat` every `everyMs` until stop(). */
export function sampleDrains(lb: LoadBalancer, everyMs = 25): { stop(): Promise<Drains> } {
  const byServer = new Map<string, ServerStretches>()
  const open = new Map<string, { since: number; drainedAt?: number }>()
  let maxOut = 0
  let running = true
  const confirming = new Map<string, number>()
  const server = (name: string) => {
    const found = byServer.get(name) ?? { outMs: [], drainMs: [], confirmMs: [] }
    byServer.set(name, found)
    return found
  }
  const see = (name: string, status: string, sessions: number, now: number) => {
    const stretch = open.get(name)
    const backSince = confirming.get(name)
    if (outOfRotation(status)) {
      const current = stretch ?? { since: now }
      if (current.drainedAt === undefined && sessions === 0) current.drainedAt = now
      open.set(name, current)
    } else if (stretch !== undefined) {
      server(name).outMs.push(now - stretch.since)
      server(name).drainMs.push((stretch.drainedAt ?? now) - stretch.since)
      open.delete(name)
      if (status === 'UP') server(name).confirmMs.push(0)
      else confirming.set(name, now)
    } else if (backSince !== undefined && status === 'UP') {
      server(name).confirmMs.push(now - backSince)
      confirming.delete(name)
    }
  }
  const loop = (async () => {
    while (running) {
      const csv = await adminCommand(lb.socket, 'show stat')
      const now = Date.now()
      const sessions = parseColumn(csv, 'scur')
      for (const [name, status] of parseColumn(csv, 'status')) see(name, status, Number(sessions.get(name)), now)
      maxOut = Math.max(maxOut, open.size)
      await pause(everyMs)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return { byServer, maxOut }
    }
  }
}
