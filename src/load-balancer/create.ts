// The load balancer adapter the inputs chose (load-balancer), built once per run.
import type { Settings } from '../inputs/settings.js'
import type { Clock, Connector, LoadBalancer, Log, Runner } from '../ports.js'
import { awsElbv2Balancer } from './aws-elbv2.js'
import { commandsBalancer } from './commands.js'
import { haproxyBalancer } from './haproxy.js'
import { healthFileBalancer } from './health-file.js'

export interface LbDeps {
  readonly settings: Settings
  /** Where probes run, and a local admin socket is reached. */
  readonly runner: Runner
  /** Reaches LB hosts (haproxy-hosts) with the hosts' own SSH settings. */
  readonly connector: Connector
  readonly clock: Clock
  readonly log: Log
}

export function createLoadBalancer(deps: LbDeps): LoadBalancer {
  const { kind, healthFile, haproxy, awsElbv2 } = deps.settings.loadBalancer
  switch (kind) {
    case 'commands':
      return commandsBalancer(deps)
    case 'health-file':
      // Only a dry run may have no health file (it checks connections alone); it never changes rotation.
      return healthFileBalancer(deps, healthFile ?? '')
    case 'haproxy':
      if (haproxy === undefined) throw new Error('load-balancer: haproxy without its settings')
      return haproxyBalancer(deps, haproxy)
    case 'aws-elbv2':
      if (awsElbv2 === undefined) throw new Error('load-balancer: aws-elbv2 needs target-groups and aws-targets')
      return awsElbv2Balancer(deps, awsElbv2)
  }
}
