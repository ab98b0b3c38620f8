// A local stand-in of the AWS ELBv2 Query API (Version 2015-12-01) on 127.0.0.1, for the actions
// the aws-elbv2 adapter calls: form-encoded POSTs answered in AWS's XML, checked for a valid
// Signature V4 made with the test's credentials. The real SDK talks to it through its endpoint
// setting (AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2). Target groups are TargetGroupModel's
// (real health checks); every request is counted by Action and kept, for API-call budgets.
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TargetGroupModel, type GroupConfig, type StandInTarget, type Transition } from './elbv2-model.js'
import { signatureProblem, type Credentials } from './sigv4.js'

const NS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/'
const LB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/stand-in/0123456789abcdef'

export interface StandInRequest {
  readonly at: number
  readonly action: string
  readonly arn?: string
  /** The Targets parameter; undefined when the request named none (a whole group's health). */
  readonly targets?: readonly StandInTarget[]
}

export interface Elbv2StandIn {
  /** http://127.0.0.1:PORT, for the SDK's endpoint. */
  readonly endpoint: string
  readonly groups: readonly TargetGroupModel[]
  readonly requests: readonly StandInRequest[]
  readonly transitions: readonly Transition[]
  /** Requests by Action. */
  counts(): Record<string, number>
  /** Requests refused for their signature, with why. */
  readonly refused: readonly string[]
  arnOf(name: string): string
  close(): Promise<void>
}

export interface StandInOptions {
  readonly groups: readonly GroupConfig[]
  readonly credentials: Credentials
  /** Where an instance id's health checks go; IP targets are checked at their own address. */
  readonly addressOf?: (id: string) => string
}

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400
  ) {
    super(message)
  }
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const element = (name: string, value: string | number | undefined) =>
  value === undefined ? '' : `<${name}>${typeof value === 'number' ? value : escape(value)}</${name}>`
const members = (items: readonly string[]) => items.map((item) => `<member>${item}</member>`).join('')

export async function startElbv2StandIn(options: StandInOptions): Promise<Elbv2StandIn> {
  const transitions: Transition[] = []
  const addressOf = options.addressOf ?? ((id: string) => id)
  const groups = options.groups.map((config) => {
    const id = createHash('sha256').update(config.name).digest('hex').slice(0, 16)
    return new TargetGroupModel(config, id, transitions, addressOf)
  })
  const requests: StandInRequest[] = []
  const refused: string[] = []
  const server = createServer((request, response) => {
    void handle(request, response, { groups, requests, refused, credentials: options.credentials })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    groups,
    requests,
    transitions,
    refused,
    counts: () => countByAction(requests),
    arnOf: (name) => groups.find((group) => group.config.name === name)?.arn ?? '',
    close: async () => {
      groups.forEach((group) => group.close())
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

/** Requests by Action. */
export function countByAction(requests: readonly StandInRequest[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const { action } of requests) counts[action] = (counts[action] ?? 0) + 1
  return counts
}

interface Context {
  readonly groups: readonly TargetGroupModel[]
  readonly requests: StandInRequest[]
  readonly refused: string[]
  readonly credentials: Credentials
}

async function handle(request: IncomingMessage, response: ServerResponse, context: Context): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const body = Buffer.concat(chunks).toString()
  const params = new URLSearchParams(body)
  const action = params.get('Action') ?? ''
  try {
    const signed = { method: request.method ?? '', path: request.url ?? '/', headers: request.headers, body }
    const problem = signatureProblem(signed, context.credentials, 'elasticloadbalancing')
    if (problem !== undefined) {
      context.refused.push(problem)
      throw new ApiError('SignatureDoesNotMatch', problem, 403)
    }
    if (params.get('Version') !== '2015-12-01') throw new ApiError('InvalidAction', 'Version must be 2015-12-01')
    const targets = targetsOf(params)
    context.requests.push({ at: Date.now(), action, arn: params.get('TargetGroupArn') ?? undefined, targets })
    const result = answer(action, params, targets, context.groups)
    const xml = `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata>${element('RequestId', randomUUID())}</ResponseMetadata></${action}Response>`
    response.writeHead(200, { 'content-type': 'text/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`)
  } catch (error: unknown) {
    const { code, message, status } =
      error instanceof ApiError ? error : new ApiError('InternalFailure', String(error), 500)
    const xml = `<ErrorResponse xmlns="${NS}"><Error><Type>${status < 500 ? 'Sender' : 'Receiver'}</Type>${element('Code', code)}${element('Message', message)}</Error>${element('RequestId', randomUUID())}</ErrorResponse>`
    response.writeHead(status, { 'content-type': 'text/xml' }).end(xml)
  }
}

/** `Targets.member.N.Id` / `.Port`, in order; undefined when the request names no target. */
function targetsOf(params: URLSearchParams): StandInTarget[] | undefined {
  const targets: StandInTarget[] = []
  for (let n = 1; params.has(`Targets.member.${n}.Id`); n++) {
    const port = params.get(`Targets.member.${n}.Port`)
    targets.push({ id: params.get(`Targets.member.${n}.Id`) ?? '', port: port === null ? undefined : Number(port) })
  }
  return targets.length > 0 ? targets : undefined
}

function answer(
  action: string,
  params: URLSearchParams,
  targets: readonly StandInTarget[] | undefined,
  groups: readonly TargetGroupModel[]
): string {
  const group = () => {
    const arn = params.get('TargetGroupArn')
    const found = groups.find((candidate) => candidate.arn === arn)
    if (found === undefined) throw new ApiError('TargetGroupNotFound', `Target groups '${arn}' not found`)
    return found
  }
  switch (action) {
    case 'DescribeTargetGroups':
      return `<TargetGroups>${describeGroups(params, groups)}</TargetGroups>`
    case 'DescribeTargetGroupAttributes':
      return `<Attributes>${attributes(group())}</Attributes>`
    case 'DescribeTargetHealth':
      return `<TargetHealthDescriptions>${health(group(), targets)}</TargetHealthDescriptions>`
    case 'RegisterTargets':
    case 'DeregisterTargets': {
      const found = group()
      if (targets === undefined) throw new ApiError('ValidationError', 'Targets is required')
      for (const target of targets) {
        if (action === 'RegisterTargets') found.register(target)
        else found.deregister(target)
      }
      return ''
    }
    default:
      throw new ApiError('InvalidAction', `Could not find operation ${action} for version 2015-12-01`)
  }
}

function describeGroups(params: URLSearchParams, groups: readonly TargetGroupModel[]): string {
  const arns: string[] = []
  for (let n = 1; params.has(`TargetGroupArns.member.${n}`); n++)
    arns.push(params.get(`TargetGroupArns.member.${n}`) ?? '')
  const missing = arns.filter((arn) => !groups.some((group) => group.arn === arn))
  if (missing.length > 0) throw new ApiError('TargetGroupNotFound', `Target groups '${missing.join(', ')}' not found`)
  const chosen = arns.length === 0 ? groups : groups.filter((group) => arns.includes(group.arn))
  return chosen
    .map(({ arn, config }) =>
      [
        element('TargetGroupArn', arn),
        element('TargetGroupName', config.name),
        element('Protocol', 'HTTP'),
        element('Port', config.port),
        element('VpcId', 'vpc-0123456789abcdef0'),
        element('HealthCheckProtocol', 'HTTP'),
        element('HealthCheckPort', 'traffic-port'),
        element('HealthCheckEnabled', 'true'),
        element('HealthCheckIntervalSeconds', config.intervalS),
        element('HealthCheckTimeoutSeconds', Math.min(config.intervalS, 2)),
        element('HealthyThresholdCount', config.healthyThreshold),
        element('UnhealthyThresholdCount', config.unhealthyThreshold),
        element('HealthCheckPath', config.healthPath),
        '<Matcher><HttpCode>200</HttpCode></Matcher>',
        `<LoadBalancerArns>${members(config.attached === false ? [] : [escape(LB_ARN)])}</LoadBalancerArns>`,
        element('TargetType', 'ip')
      ].join('')
    )
    .map((inner) => `<member>${inner}</member>`)
    .join('')
}

function attributes({ config }: TargetGroupModel): string {
  const pairs: [string, string][] = [
    ['deregistration_delay.timeout_seconds', String(config.delayS)],
    ['stickiness.enabled', 'false'],
    ['load_balancing.algorithm.type', 'round_robin']
  ]
  return members(pairs.map(([key, value]) => element('Key', key) + element('Value', value)))
}

function health(group: TargetGroupModel, targets: readonly StandInTarget[] | undefined): string {
  const asked = targets ?? [...group.targets.values()]
  return members(
    asked.map((target) => {
      const found = group.targets.get(group.key(target))
      const port = target.port ?? group.config.port
      const [state, reason, description] =
        found === undefined
          ? ['unused', 'Target.NotRegistered', 'Target is not registered to the target group']
          : group.config.attached === false && found.state !== 'draining'
            ? ['unused', 'Target.NotInUse', 'Target group is not configured to receive traffic from the load balancer']
            : [found.state, found.reason, found.description]
      const healthXml = element('State', state) + element('Reason', reason) + element('Description', description)
      return `<Target>${element('Id', target.id)}${element('Port', port)}</Target>${element('HealthCheckPort', String(port))}<TargetHealth>${healthXml}</TargetHealth>`
    })
  )
}
