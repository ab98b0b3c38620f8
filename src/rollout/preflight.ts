// Before any host is touched: connect to every host (bounded parallelism), which checks host keys
// and authentication. One unreachable host fails the run with nothing changed anywhere.
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

/** `fn` on every item, at most PREFLIGHT_CONCURRENCY at once; the results in the items' order. */
export async function mapBounded<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i], i)
  }
  await Promise.all(Array.from({ length: Math.min(PREFLIGHT_CONCURRENCY, items.length) }, worker))
  return results
}

/** Connects to all targets, in order; on any failure closes what opened and throws PreflightError. */
export async function preflight(
  targets: readonly Target[],
  connector: Connector,
  signal: AbortSignal
): Promise<RemoteHost[]> {
  const results = await mapBounded(targets, (target) =>
    connector.connect(target, signal).then(
      (host): { host: RemoteHost } | { error: string } => ({ host }),
      (error: unknown) => ({ error: errorMessage(error) })
    )
  )
  const hosts = results.flatMap((result) => ('host' in result ? [result.host] : []))
  const failures = results.flatMap((result, i) =>
    'error' in result ? [{ target: targets[i], message: result.error }] : []
  )
  if (failures.length > 0 || signal.aborted) {
    await Promise.all(hosts.map((host) => host.close()))
    throw new PreflightError(
      failures.length > 0 ? failures : targets.map((target) => ({ target, message: 'cancelled' }))
    )
  }
  return hosts
}
