// Before any host is touched: connect to every host (bounded parallelism), which checks host keys
// and authentication, and refuses a machine listed twice. One unreachable host fails the run with
// nothing changed anywhere.
import { errorMessage } from '../errors.js'
import type { Connector, RemoteHost } from '../ports.js'
import type { Target } from '../inputs/settings.js'

export class PreflightError extends Error {
  constructor(readonly failures: readonly { target: Target; message: string }[]) {
    super(
      `Preflight failed for ${failures.length} host(s); nothing was changed on any host:\n` +
        failures.map(({ target, message }) => `- ${target.entry}: ${message}`).join('\n')
    )
    this.name = 'PreflightError'
  }
}

export const PREFLIGHT_CONCURRENCY = 16

/**
 * `fn` on every item, at most PREFLIGHT_CONCURRENCY at once, started in `order` (indexes; the
 * items' own order by default); the results in the items' order.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  fn: (item: T, index: number) => Promise<R>,
  order?: readonly number[]
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    for (let n = next++; n < items.length; n = next++) {
      const i = order?.[n] ?? n
      results[i] = await fn(items[i], i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(PREFLIGHT_CONCURRENCY, items.length) }, worker))
  return results
}

/**
 * The hosts' indexes, those still connected first: a pass over a fleet bigger than max-connections
 * then begins with the hosts the last pass left connected, instead of reconnecting them once the
 * pool has parked them for the others.
 */
export function connectedFirst(hosts: readonly RemoteHost[]): number[] {
  const indexes = hosts.map((_, i) => i)
  return [...indexes.filter((i) => hosts[i].parked === false), ...indexes.filter((i) => hosts[i].parked !== false)]
}

/**
 * Entries that reach a machine an earlier entry reached too (an IP and a name of one host), told
 * by the host key it showed: rolling it twice would take it out of rotation twice, and its second
 * cycle would count as a second host for the capacity floor.
 */
function listedTwice(hosts: readonly RemoteHost[]): { target: Target; message: string }[] {
  const first = new Map<string, Target>()
  return hosts.flatMap(({ target, hostKey }) => {
    // hostKey reads `type fingerprint (what trusted it)`: the key itself is its first two words.
    const key = hostKey?.split(' ').slice(0, 2).join(' ')
    const earlier = key === undefined ? undefined : first.get(key)
    if (key !== undefined && earlier === undefined) first.set(key, target)
    if (earlier === undefined) return []
    return [
      {
        target,
        message: `the same machine as ${earlier.entry} (both show the host key ${key}); list each machine in hosts once`
      }
    ]
  })
}

/**
 * Connects to all targets, in order, and reads what preflight needs of each (`visit`) while it is
 * still connected: one connection per host for all of it, where passes one after another would
 * reconnect every host max-connections had parked. A host that cannot be reached or whose visit
 * fails is a failure of its own; on any, everything opened is closed and PreflightError names them all.
 */
export async function preflightVisiting<R>(
  targets: readonly Target[],
  connector: Connector,
  signal: AbortSignal,
  visit: (host: RemoteHost, index: number) => Promise<R>
): Promise<{ host: RemoteHost; found: R }[]> {
  type Visit = { host: RemoteHost; found: R } | { host?: RemoteHost; error: string }
  const results = await mapBounded(targets, async (target, i): Promise<Visit> => {
    const host = await connector.connect(target, signal).catch((error: unknown) => new Error(errorMessage(error)))
    if (host instanceof Error) return { error: host.message }
    return visit(host, i).then(
      (found) => ({ host, found }),
      (error: unknown) => ({ host, error: errorMessage(error) })
    )
  })
  const hosts = results.flatMap((result) => (result.host ? [result.host] : []))
  const failures = results.flatMap((result, i) =>
    'error' in result ? [{ target: targets[i], message: result.error }] : []
  )
  failures.push(...listedTwice(hosts))
  if (failures.length > 0 || signal.aborted) {
    await Promise.all(hosts.map((host) => host.close()))
    throw new PreflightError(
      failures.length > 0 ? failures : targets.map((target) => ({ target, message: 'cancelled' }))
    )
  }
  return results.flatMap((result) => ('found' in result ? [result] : []))
}
