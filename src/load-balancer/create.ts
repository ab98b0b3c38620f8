// The load balancer adapter the inputs chose (load-balancer), built once per run.
import type { LoadBalancer } from '../ports.js'
import { awsElbv2Balancer } from './aws-elbv2.js'
import { commandsBalancer } from './commands.js'
import { haproxyBalancer } from './haproxy.js'
import { healthFileBalancer } from './health-file.js'
import type { LbDeps } from './lb-deps.js'

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
