// Live traffic through the load balancer for the whole rollout: keep-alive clients counting every
// response by status and version, and every connection error; plus a sampler of HAProxy's server
// states. Both are bounded in time and stop by themselves.
import { Pool } from 'undici'
import { setTimeout as pause } from 'node:timers/promises'
import { outOfRotation, type LoadBalancer } from './haproxy.js'

export interface Tally {
  requests: number
  byStatus: Record<string, number>
  byVersion: Record<string, number>
  /** Connection-level failures (reset, refused, timeout), by message. */
  connectionErrors: Record<string, number>
  /** Responses that were not 200, plus connection errors: what a user would have seen. */
  errors: number
}

export interface Traffic {
  /** The tally so far, while the clients go on (the fleet command's checks read it mid-run). */
  snapshot(): Tally
  stop(): Promise<Tally>
}

/**
 * `clients` keep-alive clients, each sending its next request as soon as the last one is answered
 * (a flood: the strictest test) or `thinkMs` later (paced, so a 2-core benchmark machine measures
 * the rollout rather than its own saturation); each requests `path` (`/slow?ms=2000`: 2 s each).
 */
export function startTraffic(port: number, clients = 8, thinkMs = 0, maxDurationMs = 300_000, path = '/'): Traffic {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: clients, pipelining: 1, keepAliveTimeout: 10_000 })
  const tally: Tally = { requests: 0, byStatus: {}, byVersion: {}, connectionErrors: {}, errors: 0 }
  const bump = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1)
  const deadline = Date.now() + maxDurationMs
  let running = true
  const client = async () => {
    while (running && Date.now() < deadline) {
      tally.requests++
      try {
        const response = await pool.request({ path, method: 'GET', headersTimeout: 5000, bodyTimeout: 5000 })
        const body = await response.body.text()
        bump(tally.byStatus, String(response.statusCode))
        if (response.statusCode !== 200) tally.errors++
        else bump(tally.byVersion, /version=(\S+)/.exec(body)?.[1] ?? 'unknown')
      } catch (error: unknown) {
        tally.errors++
        bump(tally.connectionErrors, (error as Error).message)
      }
      if (thinkMs > 0) await pause(thinkMs)
    }
  }
  const loops = Array.from({ length: clients }, client)
  return {
    snapshot: () => structuredClone(tally),
    async stop() {
      running = false
      await Promise.all(loops)
      await pool.close()
      return tally
    }
  }
}

export interface RotationSampler {
  stop(): Promise<{ samples: number; maxOutOfRotation: number; outAtEnd: string[] }>
}

export function sampleRotation(lb: LoadBalancer, everyMs = 25, maxDurationMs = 300_000): RotationSampler {
  let samples = 0
  let maxOut = 0
  let last = new Map<string, string>()
  let running = true
  const deadline = Date.now() + maxDurationMs
  const loop = (async () => {
    while (running && Date.now() < deadline) {
      last = await lb.states()
      samples++
      maxOut = Math.max(maxOut, [...last.values()].filter(outOfRotation).length)
      await pause(everyMs)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      const outAtEnd = [...last.entries()].filter(([, status]) => outOfRotation(status)).map(([name]) => name)
      return { samples, maxOutOfRotation: maxOut, outAtEnd }
    }
  }
}
