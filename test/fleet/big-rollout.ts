// A rollout of the big fleet (big-fleet.ts), for its fleet test and the bench: the "app" is a file
// (its version), its commands are sh with a known time each, health-file mode with fixed waits, so
// each batch's lower bound is known: what the run costs beyond it is the action's.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bigFleetInputs, type BigFleet, type BigHost } from './big-fleet.js'
import { HOST_VIEW } from './ssh-hosts.js'

/** Each of stop, deploy and start sleeps this long; offline-wait and online-wait are fixed. */
export const STEP_SECONDS = 0.3
export const OFFLINE_WAIT_SECONDS = 1
export const ONLINE_WAIT_SECONDS = 1

const at = (file: string) => `${HOST_VIEW}/${file}`

/** v1 running, healthy and in rotation on every host, nothing else on its disk or in its home. */
export function seedBigFleet(fleet: BigFleet, hosts = fleet.hosts): void {
  for (const host of hosts) {
    fleet.writeOnHost(host, 'version', 'v1\n')
    fleet.writeOnHost(host, 'running', '')
    fleet.writeOnHost(host, 'healthy', '')
  }
}

/** The inputs that roll `version` to `hosts` (all by default), `batch-size` at a time. */
export function bigRolloutInputs(
  fleet: BigFleet,
  version: string,
  batchSize: string,
  hosts = fleet.hosts
): Record<string, string> {
  const step = `sleep ${STEP_SECONDS} &&`
  return {
    ...bigFleetInputs(fleet, hosts),
    'batch-size': batchSize,
    // Batches of 50 need 51 connections (the batch and one spare for the lock's upkeep): the default 50 is refused.
    'max-connections': '60',
    'health-file': at('healthy'),
    'offline-wait': `${OFFLINE_WAIT_SECONDS}s`,
    'online-wait': `${ONLINE_WAIT_SECONDS}s`,
    'stop-command': `${step} rm -f ${at('running')}`,
    'deploy-command': `${step} echo ${version} > ${at('version.new')} && mv ${at('version.new')} ${at('version')}`,
    'start-command': `${step} touch ${at('running')}`,
    'health-command': `test -f ${at('running')} && grep -qx ${version} ${at('version')}`
  }
}

/**
 * The least a batch can take whatever the action does: offline-wait, the three commands' sleeps,
 * online-wait (a host's health check passes at its first try). Batches run one after another.
 */
export const batchLowerBoundMs = () => (OFFLINE_WAIT_SECONDS + 3 * STEP_SECONDS + ONLINE_WAIT_SECONDS) * 1000

/** What a host's disk holds: its version, and whether it runs and is in rotation. */
export function hostState(host: BigHost): { version: string; running: boolean; healthy: boolean } {
  const read = (file: string) => {
    try {
      return readFileSync(join(host.root, file), 'utf8')
    } catch {
      return undefined
    }
  }
  return {
    version: read('version')?.trim() ?? '',
    running: read('running') !== undefined,
    healthy: read('healthy') !== undefined
  }
}

/** The run's connection counters: the `connections` output. */
export interface ConnectionCounts {
  limit: number
  peakOpen: number
  opened: number
  handshakeRetries: number
}

export function connectionCounts(outputs: Record<string, string>): ConnectionCounts | undefined {
  return outputs.connections ? (JSON.parse(outputs.connections) as ConnectionCounts) : undefined
}
