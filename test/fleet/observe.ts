// What users and the load balancer saw while the action ran: the traffic tally and the most
// servers out of rotation, sampled from HAProxy before, during and after the run.
import type { Fleet } from './fleet.js'
import { setTimeout as pause } from 'node:timers/promises'
import { sampleRotation, startTraffic, type Tally } from './traffic.js'
import { runAction, type ActionRun, type RunOptions } from '../run-action.js'

export interface Seen {
  tally: Tally
  maxOutOfRotation: number
  outAtEnd: string[]
  samples: number
}

export interface Observed extends Seen {
  run: ActionRun
}

/**
 * Runs `body` under live traffic through the fleet's HAProxy (8 clients, see startTraffic for
 * `thinkMs`), sampling rotation throughout.
 */
export async function observeWhile<T>(
  fleet: Fleet,
  body: () => Promise<T>,
  thinkMs = 0
): Promise<Seen & { result: T }> {
  const traffic = startTraffic(fleet.lb.port, 8, thinkMs)
  const sampler = sampleRotation(fleet.lb)
  await pause(300)
  const result = await body()
  await pause(500) // the last host's rise in HAProxy, and requests still in flight
  const rotation = await sampler.stop()
  const tally = await traffic.stop()
  return { result, tally, ...rotation }
}

export async function rollUnderTraffic(
  fleet: Fleet,
  inputs: Record<string, string>,
  options: RunOptions = {}
): Promise<Observed> {
  const { result, ...seen } = await observeWhile(fleet, () => runAction(inputs, options))
  return { run: result, ...seen }
}

/** Every request answered 200 by some host: nothing a user would have noticed. */
export function userVisibleErrors(observed: Seen): {
  byStatus: Record<string, number>
  connectionErrors: Record<string, number>
} {
  const { byStatus, connectionErrors } = observed.tally
  return {
    byStatus: Object.fromEntries(Object.entries(byStatus).filter(([status]) => status !== '200')),
    connectionErrors
  }
}
