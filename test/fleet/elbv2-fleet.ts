// The real fleet behind the ELBv2 stand-in instead of HAProxy: one target group whose targets are
// the hosts' apps (IP targets, address:app port), health-checked for real, a listener users reach,
// and the action's inputs and environment for load-balancer: aws-elbv2. For the fleet tests and
// the benchmark.
import { setTimeout as pause } from 'node:timers/promises'
import type { Fleet } from './fleet.js'
import type { GroupConfig } from './elbv2-model.js'
import { startListener, type StandInListener } from './elbv2-listener.js'
import { countByAction, startElbv2StandIn, type Elbv2StandIn } from './elbv2-stand-in.js'

/** What aws-actions/configure-aws-credentials would leave; the stand-in checks the signatures with them. */
export const STAND_IN_CREDENTIALS = {
  accessKeyId: 'AKIASTANDIN000000001',
  secretAccessKey: 'stand-in-secret-access-key/0000000000000',
  sessionToken: 'stand-in-session-token'
}

export interface Elbv2Fleet {
  readonly standIn: Elbv2StandIn
  readonly listener: StandInListener
  readonly arn: string
  /** The variables the action runs with: the credentials, a region, and the SDK's endpoint variable. */
  readonly env: Record<string, string>
  /** The fleet's inputs, its host-side load balancer inputs replaced by the stand-in's target group. */
  inputs(overrides?: Record<string, string>): Record<string, string>
  /** Each host's target, as the stand-in names it (`127.0.0.2:PORT`). */
  targetOf(index: number): string
  /** Host `index`'s target state in the group, `unused` once it is not registered. */
  stateOf(index: number): string
  /** Every host registered and healthy again (after a test that left one out). */
  reset(): Promise<void>
  /** The requests since `from` (an index into standIn.requests), by Action. */
  countsSince(from: number): Record<string, number>
  close(): Promise<void>
}

/** The target group's health check (on the app's pages), thresholds and drain, scaled down as HAProxy's are. */
const FLEET_GROUP = { delayS: 1, intervalS: 1, healthyThreshold: 2, unhealthyThreshold: 2, healthPath: '/' }

/** What the action's process gets: configure-aws-credentials' variables and the SDK's endpoint variable. */
export const actionEnv = (endpoint: string): Record<string, string> => ({
  AWS_ACCESS_KEY_ID: STAND_IN_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: STAND_IN_CREDENTIALS.secretAccessKey,
  AWS_SESSION_TOKEN: STAND_IN_CREDENTIALS.sessionToken,
  AWS_REGION: 'eu-west-1',
  AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: endpoint
})

/** `group` overrides the stand-in group: a 1 s health check interval, 2 checks each way, a 1 s drain. */
export async function startElbv2Fleet(fleet: Fleet, group: Partial<GroupConfig> = {}): Promise<Elbv2Fleet> {
  const targets = fleet.hosts.map((host) => ({ id: host.address, port: fleet.appPort }))
  const config = { name: 'fleet', port: fleet.appPort, registered: targets, ...FLEET_GROUP, ...group }
  const standIn = await startElbv2StandIn({ credentials: STAND_IN_CREDENTIALS, groups: [config] })
  const listener = await startListener(standIn.groups[0])
  const arn = standIn.groups[0].arn
  const model = standIn.groups[0]
  return {
    standIn,
    listener,
    arn,
    env: actionEnv(standIn.endpoint),
    inputs(overrides = {}) {
      const inputs: Record<string, string> = {
        ...fleet.inputs(),
        'load-balancer': 'aws-elbv2',
        'target-groups': arn,
        'aws-targets': fleet.hosts.map((host, i) => `${host.entry}=${host.address}:${targets[i].port}`).join('\n'),
        'probe-interval': '250ms',
        ...overrides
      }
      delete inputs['offline-command']
      delete inputs['online-command']
      return inputs
    },
    targetOf: (index) => `${targets[index].id}:${targets[index].port}`,
    stateOf: (index) =>
      [...model.targets.values()].find(({ id, port }) => id === targets[index].id && port === targets[index].port)
        ?.state ?? 'unused',
    async reset() {
      targets.forEach((target) => model.register(target))
      const deadline = Date.now() + 15_000
      while ([...model.targets.values()].filter((target) => target.state === 'healthy').length < targets.length) {
        if (Date.now() > deadline) throw new Error('the stand-in never had every host healthy again')
        await pause(100)
      }
    },
    countsSince: (from) => countByAction(standIn.requests.slice(from)),
    async close() {
      await listener.close()
      await standIn.close()
    }
  }
}
