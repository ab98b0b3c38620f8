// Hosts + batch-size → batches, with Ansible `serial` semantics: each step sizes one batch, the
// last step repeats until every host is planned, percentages are of all hosts, at least 1 each.
import type { BatchStep } from '../inputs/parse.js'
import type { Settings } from '../inputs/settings.js'

export function batchSizes(total: number, steps: readonly BatchStep[]): number[] {
  const sizes: number[] = []
  let planned = 0
  for (let i = 0; planned < total; i++) {
    const step = steps[Math.min(i, steps.length - 1)]
    const size = 'count' in step ? step.count : Math.floor((total * step.percent) / 100)
    const clamped = Math.min(Math.max(size, 1), total - planned)
    sizes.push(clamped)
    planned += clamped
  }
  return sizes
}

export function planBatches<T>(hosts: readonly T[], steps: readonly BatchStep[]): T[][] {
  let start = 0
  return batchSizes(hosts.length, steps).map((size) => hosts.slice(start, (start += size)))
}

/** The dry-run plan: what would run where, in order, with every wait. */
export function describePlan(settings: Settings): string[] {
  const ms = (value: number) => `${value} ms`
  const steps: string[] = []
  if (settings.upload) steps.push(`upload ${settings.upload.from} → ${settings.upload.to}`)
  const wait = (waitMs: number, probe: string | undefined, name: string) =>
    probe === undefined
      ? ms(waitMs)
      : `until ${name} (on the runner, every ${ms(settings.probeIntervalMs)}) exits 0, up to ${ms(waitMs)}: ${probe}`
  steps.push(
    `offline: ${settings.offlineCommand}`,
    `offline-wait: ${wait(settings.offlineWaitMs, settings.offlineProbe, 'offline-probe')}`
  )
  if (settings.drain) {
    steps.push(
      `drain: until no connection is established on port ${settings.drain.port}, up to ${ms(settings.drain.timeoutMs)}`
    )
  }
  if (settings.stopCommand) steps.push(`stop: ${settings.stopCommand}`)
  if (settings.deployCommand) steps.push(`deploy: ${settings.deployCommand}`)
  if (settings.startCommand) steps.push(`start: ${settings.startCommand}`)
  const { url, command, timeoutMs, intervalMs } = settings.health
  steps.push(
    `health: ${url ? `GET ${url} through SSH` : `run ${command}`} every ${ms(intervalMs)}, up to ${ms(timeoutMs)}`
  )
  steps.push(
    `online: ${settings.onlineCommand}`,
    `online-wait: ${wait(settings.onlineWaitMs, settings.onlineProbe, 'online-probe')}`
  )
  if (settings.rollbackCommand) steps.push(`on failure: ${settings.rollbackCommand}, then health and online`)
  const batches = planBatches(settings.hosts, settings.batchSize)
  return [
    `${settings.hosts.length} host(s) in ${batches.length} batch(es); stop after more than ${settings.maxFailedHosts} failed host(s)` +
      (settings.batchPauseMs > 0 ? `; ${ms(settings.batchPauseMs)} between batches` : ''),
    ...batches.map((batch, i) => `batch ${i + 1}: ${batch.map((host) => host.entry).join(', ')}`),
    'each host:',
    ...steps.map((step, i) => `  ${i + 1}. ${step}`)
  ]
}
