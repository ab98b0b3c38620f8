// The ELBv2 calls the aws-elbv2 adapter makes, one method per API call (so a fake counts them as
// AWS would), over @aws-sdk/client-elastic-load-balancing-v2. The SDK finds the credentials and
// the endpoint itself: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, and
// AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 / AWS_ENDPOINT_URL; the region is the ARN's own.
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'

/** The SDK, loaded on first use: ncc bundles it as a chunk of its own, which runs with another load balancer never parse. */
type Sdk = typeof import('@aws-sdk/client-elastic-load-balancing-v2')
let sdk: Promise<Sdk> | undefined
const loadSdk = () => (sdk ??= import('@aws-sdk/client-elastic-load-balancing-v2'))

export interface ElbTarget {
  readonly id: string
  readonly port?: number
}

/** What the adapter needs of a target group, read once per run. */
export interface GroupInfo {
  readonly arn: string
  readonly name: string
  /** The load balancers it is attached to: with none, every target reads `unused`, serving or not. */
  readonly loadBalancerArns: readonly string[]
  readonly healthCheckIntervalMs: number
  readonly healthyThreshold: number
  readonly unhealthyThreshold: number
}

/** One target's health in one group (`unused` + `Target.NotRegistered` when it is not registered). */
export interface TargetHealth {
  readonly target: ElbTarget
  readonly state: string
  readonly reason?: string
  readonly description?: string
}

export interface ElbApi {
  /** DescribeTargetGroups (one call per region): throws when a group does not exist. */
  describeTargetGroups(arns: readonly string[], signal: AbortSignal): Promise<GroupInfo[]>
  /** DescribeTargetGroupAttributes: `deregistration_delay.timeout_seconds`, in ms. */
  deregistrationDelayMs(arn: string, signal: AbortSignal): Promise<number>
  /** DescribeTargetHealth for these targets only (never the whole group). */
  describeTargetHealth(arn: string, targets: readonly ElbTarget[], signal: AbortSignal): Promise<TargetHealth[]>
  registerTargets(arn: string, targets: readonly ElbTarget[], signal: AbortSignal): Promise<void>
  deregisterTargets(arn: string, targets: readonly ElbTarget[], signal: AbortSignal): Promise<void>
}

/** The region of a target group ARN (`arn:aws:elasticloadbalancing:REGION:…`). */
export const regionOf = (arn: string): string => arn.split(':')[3]

/** AWS's default delay, for a group whose attributes do not say (they always do). */
const DEFAULT_DELAY_S = 300

/** The ELBv2 API through the AWS SDK, one client per region. */
export function sdkElbApi(): ElbApi & { destroy(): void } {
  return new SdkElbApi()
}

class SdkElbApi implements ElbApi {
  private readonly clients = new Map<string, ElasticLoadBalancingV2Client>()

  async describeTargetGroups(arns: readonly string[], signal: AbortSignal): Promise<GroupInfo[]> {
    const { DescribeTargetGroupsCommand } = await loadSdk()
    const regions = [...new Set(arns.map(regionOf))]
    const pages = await Promise.all(
      regions.map(async (region) => {
        const inRegion = arns.filter((arn) => regionOf(arn) === region)
        const command = new DescribeTargetGroupsCommand({ TargetGroupArns: inRegion })
        return (await this.client(inRegion[0])).send(command, { abortSignal: signal })
      })
    )
    return pages.flatMap((page) =>
      (page.TargetGroups ?? []).map((group) => ({
        arn: group.TargetGroupArn ?? '',
        name: group.TargetGroupName ?? '',
        loadBalancerArns: group.LoadBalancerArns ?? [],
        healthCheckIntervalMs: (group.HealthCheckIntervalSeconds ?? 30) * 1000,
        healthyThreshold: group.HealthyThresholdCount ?? 5,
        unhealthyThreshold: group.UnhealthyThresholdCount ?? 2
      }))
    )
  }

  async deregistrationDelayMs(arn: string, signal: AbortSignal): Promise<number> {
    const { DescribeTargetGroupAttributesCommand } = await loadSdk()
    const command = new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })
    const { Attributes } = await (await this.client(arn)).send(command, { abortSignal: signal })
    const value = Attributes?.find((attribute) => attribute.Key === 'deregistration_delay.timeout_seconds')?.Value
    const seconds = Number(value ?? DEFAULT_DELAY_S)
    return (Number.isFinite(seconds) ? seconds : DEFAULT_DELAY_S) * 1000
  }

  async describeTargetHealth(arn: string, list: readonly ElbTarget[], signal: AbortSignal): Promise<TargetHealth[]> {
    const { DescribeTargetHealthCommand } = await loadSdk()
    const command = new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: sdkTargets(list) })
    const { TargetHealthDescriptions } = await (await this.client(arn)).send(command, { abortSignal: signal })
    return (TargetHealthDescriptions ?? []).map((found) => ({
      target: { id: found.Target?.Id ?? '', port: found.Target?.Port },
      state: found.TargetHealth?.State ?? 'unknown',
      reason: found.TargetHealth?.Reason,
      description: found.TargetHealth?.Description
    }))
  }

  async registerTargets(arn: string, list: readonly ElbTarget[], signal: AbortSignal): Promise<void> {
    const { RegisterTargetsCommand } = await loadSdk()
    const command = new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: sdkTargets(list) })
    await (await this.client(arn)).send(command, { abortSignal: signal })
  }

  async deregisterTargets(arn: string, list: readonly ElbTarget[], signal: AbortSignal): Promise<void> {
    const { DeregisterTargetsCommand } = await loadSdk()
    const command = new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: sdkTargets(list) })
    await (await this.client(arn)).send(command, { abortSignal: signal })
  }

  destroy(): void {
    this.clients.forEach((client) => client.destroy())
  }

  private async client(arn: string): Promise<ElasticLoadBalancingV2Client> {
    const { ElasticLoadBalancingV2Client } = await loadSdk()
    const region = regionOf(arn)
    let found = this.clients.get(region)
    if (found === undefined) {
      // Bounded calls: a silent endpoint must fail the call (the SDK retries it), never hang a wait.
      found = new ElasticLoadBalancingV2Client({
        region,
        requestHandler: { connectionTimeout: 5000, requestTimeout: 10_000 }
      })
      this.clients.set(region, found)
    }
    return found
  }
}

const sdkTargets = (list: readonly ElbTarget[]) => list.map(({ id, port }) => ({ Id: id, Port: port }))
