// load-balancer: aws-elbv2's inputs: the target groups (ARNs) and each host's target in them
// (aws-targets). Credentials and the endpoint are the AWS SDK's own (its environment variables), so
// nothing secret passes through here.
import { isIPv4, isIPv6 } from 'node:net'
import type { InputReader } from './input-reader.js'
import { InputError, splitList } from './parse.js'
import type { AwsElbv2Settings, LoadBalancerKind, Target } from './settings.js'

const ARN_FORM = 'arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID'
const ARN = /^arn:aws(?:-[a-z]+)*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/
const TARGET_FORM = 'ENTRY=ID[:PORT], ENTRY a hosts entry as written, ID an instance id (i-0abc…) or an IP address'
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/

export type AwsTarget = NonNullable<ReturnType<AwsElbv2Settings['targets']['get']>>

/** Both inputs with aws-elbv2 (required, checked); refused with any other kind. */
export function readAwsElbv2(
  input: InputReader,
  kind: LoadBalancerKind,
  hosts: readonly Target[]
): AwsElbv2Settings | undefined {
  if (kind !== 'aws-elbv2') {
    for (const name of ['target-groups', 'aws-targets'] as const)
      if (input.raw(name) !== undefined)
        input.problem(name, input.raw(name), `is only used with load-balancer: aws-elbv2 (it is ${kind})`)
    return undefined
  }
  // aws-elbv2 reads each target's state from the API: a probe would be a second, unused answer.
  for (const name of ['offline-probe', 'online-probe'] as const)
    if (input.raw(name) !== undefined)
      input.problem(
        name,
        input.raw(name),
        'is not used with load-balancer: aws-elbv2, which reads target health from the API'
      )
  return { targetGroups: readTargetGroups(input), targets: readTargets(input, hosts) }
}

function readTargetGroups(input: InputReader): string[] {
  const arns = splitList(input.raw('target-groups') ?? '')
  if (arns.length === 0)
    input.problem(
      'target-groups',
      undefined,
      `is required with load-balancer: aws-elbv2; expected one ${ARN_FORM} per line`
    )
  const seen = new Set<string>()
  return arns.filter((arn) => {
    if (!ARN.test(arn)) input.problem('target-groups', arn, `expected a target group ARN, ${ARN_FORM}`)
    else if (seen.has(arn)) input.problem('target-groups', arn, 'is listed twice; list each target group once')
    else return seen.add(arn)
    return false
  })
}

function readTargets(input: InputReader, hosts: readonly Target[]): Map<string, AwsTarget> {
  const targets = new Map<string, AwsTarget>()
  const owners = new Map<string, string>()
  const problemsBefore = input.problems.length
  for (const line of splitList(input.raw('aws-targets') ?? '')) {
    const target = input.attempt('aws-targets', line, () => parseTargetLine(line))
    if (target === undefined) continue
    const [entry, value] = target
    const key = `${value.id}:${value.port ?? ''}`
    if (!hosts.some((host) => host.entry === entry))
      input.problem(
        'aws-targets',
        line,
        `names no host: '${entry}' is not a hosts entry as written; expected ${TARGET_FORM}`
      )
    else if (targets.has(entry)) input.problem('aws-targets', line, `gives ${entry} a second target; one line per host`)
    // One target for two hosts: taking one out would take the other out with it.
    else if (owners.has(key))
      input.problem('aws-targets', line, `is also the target of ${owners.get(key)}; each host needs its own`)
    else {
      targets.set(entry, value)
      owners.set(key, entry)
    }
  }
  // A line refused above already says what is wrong with that host's target.
  const missing = hosts.filter((host) => !targets.has(host.entry)).map((host) => host.entry)
  if (missing.length > 0 && input.problems.length === problemsBefore)
    input.problem(
      'aws-targets',
      undefined,
      `has no target for ${missing.join(', ')}; expected one ${TARGET_FORM} per host`
    )
  return targets
}

/** `ENTRY=ID[:PORT]`: the entry, and its target (an IPv6 address in brackets when a port follows). */
export function parseTargetLine(line: string): [string, AwsTarget] {
  const equals = line.lastIndexOf('=')
  if (equals <= 0) throw new InputError(`expected ${TARGET_FORM}`)
  const entry = line.slice(0, equals).trim()
  const text = line.slice(equals + 1).trim()
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text)
  const [id, portText] = bracketed
    ? [bracketed[1], bracketed[2]]
    : isIPv6(text)
      ? [text, undefined]
      : [text.split(':')[0], text.includes(':') ? text.slice(text.indexOf(':') + 1) : undefined]
  if (!INSTANCE_ID.test(id) && !isIPv4(id) && !isIPv6(id))
    throw new InputError(`'${id}' is neither an instance id nor an IP address; expected ${TARGET_FORM}`)
  if (portText === undefined) return [entry, { id }]
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    throw new InputError(`invalid port '${portText}' (1-65535); expected ${TARGET_FORM}`)
  return [entry, { id, port: Number(portText) }]
}
