// What every load balancer adapter is built from: the factory (create.ts) passes it to the adapter
// the inputs chose, and the adapters only read it.
import type { Settings } from '../inputs/settings.js'
import type { Clock, Connector, Log, Runner } from '../ports.js'

export interface LbDeps {
  readonly settings: Settings
  /** Where probes run, and a local admin socket is reached. */
  readonly runner: Runner
  /** Reaches LB hosts (haproxy-hosts) with the hosts' own SSH settings. */
  readonly connector: Connector
  readonly clock: Clock
  readonly log: Log
}
