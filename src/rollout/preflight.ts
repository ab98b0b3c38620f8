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

/** Connects to all targets, in order; on any failure closes what opened and throws PreflightError. */
export async function preflight(
  targets: readonly Target[],
  connector: Connector,
  signal: AbortSignal
): Promise<RemoteHost[]> {
  const results: ({ host: RemoteHost } | { error: string })[] = new Array(targets.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < targets.length; i = next++) {
      try {
        results[i] = { host: await connector.connect(targets[i], signal) }
      } catch (error: unknown) {
        results[i] = { error: errorMessage(error) }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(PREFLIGHT_CONCURRENCY, targets.length) }, worker))
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
