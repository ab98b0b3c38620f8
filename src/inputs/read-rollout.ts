// The inputs that say what each host goes through: the load balancer, the commands, the health
// check and the upload.
import { existsSync } from 'node:fs'
import { SAMPLE_VARIABLES } from '../variables.js'
import type { InputReader } from './input-reader.js'
import { readAwsElbv2 } from './read-aws.js'
import {
  expandVariables,
  InputError,
  parseDuration,
  parseHttpUrl,
  parseInteger,
  parseRegex,
  parseStatusRanges,
  positiveDuration
} from './parse.js'
import { readHaproxy, refuseHaproxyInputs } from './read-haproxy.js'
import type {
  CommandSettings,
  HealthSettings,
  LoadBalancerKind,
  LoadBalancerSettings,
  RotationChange,
  Settings,
  Target
} from './settings.js'

const KINDS: readonly LoadBalancerKind[] = ['health-file', 'commands', 'haproxy', 'aws-elbv2']
/** What a host-side kind uses, and so what an LB that is told directly (haproxy, aws-elbv2) refuses. */
const HOST_SIDE_INPUTS = ['health-file', 'offline-command', 'online-command'] as const

/** `hosts` and `port`: what haproxy-servers and haproxy-hosts are read against. */
export function readLoadBalancer(
  input: InputReader,
  dryRun: boolean,
  hosts: readonly Target[],
  port: number
): LoadBalancerSettings {
  const healthFile = input.parse('health-file', (value) => {
    if (!value.startsWith('/') || value.includes('\n'))
      throw new InputError('expected an absolute path on the host, e.g. /usr/share/nginx/status/nginx-status.html')
    return value
  })
  const offline = readRotationChange(input, 'offline')
  const online = readRotationChange(input, 'online')
  const kind = readKind(input, offline, online)
  const shared = {
    awsElbv2: readAwsElbv2(input, kind, hosts),
    offline,
    online,
    probeIntervalMs: input.defaulted('probe-interval', positiveDuration),
    drain: readDrain(input, kind === 'haproxy')
  }
  if (kind !== 'haproxy') refuseHaproxyInputs(input, kind)
  if (kind === 'haproxy' || kind === 'aws-elbv2') return readToldDirectly(input, kind, shared, hosts, port)
  if (healthFile !== undefined && offline.command !== undefined && online.command !== undefined) {
    input.problem(
      'health-file',
      healthFile,
      'is unused when both offline-command and online-command are set; set either health-file or the two commands'
    )
  }
  // A dry run may check the connections alone.
  for (const [name, change] of [
    ['offline-command', offline],
    ['online-command', online]
  ] as const) {
    if (change.command === undefined && input.raw('health-file') === undefined && !dryRun) {
      input.problem(
        name,
        undefined,
        `health-file or ${name} is required: it is how a host leaves and rejoins the load balancer`
      )
    }
  }
  return { kind, healthFile, ...shared }
}

/** haproxy and aws-elbv2 are told directly: what the host-side kinds use would go unused. */
function readToldDirectly(
  input: InputReader,
  kind: 'haproxy' | 'aws-elbv2',
  shared: Omit<LoadBalancerSettings, 'kind'>,
  hosts: readonly Target[],
  port: number
): LoadBalancerSettings {
  for (const name of HOST_SIDE_INPUTS) {
    if (input.raw(name) !== undefined)
      input.problem(
        name,
        input.raw(name),
        `is not used with load-balancer: ${kind}, which tells the load balancer directly`
      )
  }
  if (kind === 'aws-elbv2') return { kind, ...shared }
  for (const name of ['offline-probe', 'online-probe'] as const) {
    if (input.raw(name) !== undefined)
      input.problem(name, input.raw(name), "is not used with load-balancer: haproxy, whose own servers' state is read")
  }
  return { kind, ...shared, haproxy: readHaproxy(input, hosts, port) }
}

/** load-balancer, or without it: commands when both commands are set, the health file otherwise. */
function readKind(input: InputReader, offline: RotationChange, online: RotationChange): LoadBalancerKind {
  const kind = input.parse('load-balancer', (value) => {
    const known = KINDS.find((name) => name === value)
    if (known === undefined) throw new InputError(`expected one of ${KINDS.join(', ')}`)
    return known
  })
  if (kind === 'health-file' && input.raw('health-file') === undefined)
    input.problem('load-balancer', kind, "needs health-file: the file the load balancer's health check reads")
  if (kind === 'commands' && (offline.command === undefined || online.command === undefined))
    input.problem('load-balancer', kind, 'needs offline-command and online-command')
  return kind ?? (offline.command !== undefined && online.command !== undefined ? 'commands' : 'health-file')
}

function readRotationChange(input: InputReader, change: 'offline' | 'online'): RotationChange {
  const waitMs = input.defaulted(`${change}-wait`, parseDuration)
  const probe = input.raw(`${change}-probe`)
  if (probe !== undefined && waitMs === 0) {
    input.problem(
      `${change}-wait`,
      input.raw(`${change}-wait`),
      `must be more than 0 when ${change}-probe is set: it bounds the probe`
    )
  }
  return { command: input.raw(`${change}-command`), waitMs, probe }
}

/** `sessionsCounted`: the load balancer counts the host's sessions itself (haproxy), so drain-port is optional. */
function readDrain(input: InputReader, sessionsCounted: boolean): LoadBalancerSettings['drain'] {
  const timeoutMs = input.parse('drain-timeout', positiveDuration)
  const port = input.parse('drain-port', (value) => parseInteger(value, 1, 65535))
  if (sessionsCounted && input.raw('drain-port') === undefined)
    return timeoutMs !== undefined ? { timeoutMs } : undefined
  if ((input.raw('drain-timeout') === undefined) !== (input.raw('drain-port') === undefined)) {
    input.problem(
      'drain-port',
      input.raw('drain-port'),
      'drain-timeout and drain-port go together: the port whose connections to wait for, and for how long'
    )
  }
  return timeoutMs !== undefined && port !== undefined ? { port, timeoutMs } : undefined
}

export function readHealth(input: InputReader, env: readonly (readonly [string, string])[]): HealthSettings {
  // Checked with every variable set to a sample value; each host expands the real ones.
  const samples = new Map([...SAMPLE_VARIABLES, ...env.map(([name]) => [name, '1'] as const)])
  const url = input.parse('health-url', (value) => {
    parseHttpUrl(expandVariables(value, samples))
    return value
  })
  const command = input.raw('health-command')
  if (input.raw('health-url') !== undefined && command !== undefined) {
    input.problem('health-command', command, 'cannot be combined with health-url; set one of them')
  } else if (input.raw('health-url') === undefined && command === undefined) {
    input.problem(
      'health-url',
      undefined,
      'health-url or health-command is required: without it a broken release would go back into rotation'
    )
  }
  return {
    url,
    command,
    statuses: input.defaulted('health-status', parseStatusRanges),
    body: input.parse('health-body', parseRegex),
    timeoutMs: input.defaulted('health-timeout', positiveDuration),
    intervalMs: input.defaulted('health-interval', positiveDuration)
  }
}

export function readCommands(input: InputReader): CommandSettings {
  const commands = {
    stop: input.raw('stop-command'),
    deploy: input.raw('deploy-command'),
    start: input.raw('start-command')
  }
  if (Object.values(commands).every((command) => command === undefined)) {
    input.problem(
      'stop-command',
      undefined,
      'at least one of stop-command, deploy-command or start-command is required'
    )
  }
  return {
    ...commands,
    rollback: input.raw('rollback-command'),
    diagnose: input.raw('diagnose-command'),
    timeoutMs: input.defaulted('command-timeout', positiveDuration)
  }
}

/** upload and upload-to; in release mode upload alone (the release directory is where it goes). */
export function readUpload(input: InputReader, releaseMode: boolean): Settings['upload'] {
  const from = input.raw('upload')
  const to = input.raw('upload-to')
  if (releaseMode) {
    if (from !== undefined && !existsSync(from))
      input.problem('upload', from, 'does not exist on the runner; expected a local file or directory')
    return undefined
  }
  if ((from === undefined) !== (to === undefined)) {
    input.problem(
      from === undefined ? 'upload' : 'upload-to',
      undefined,
      'upload and upload-to go together; set both or neither'
    )
    return undefined
  }
  if (from === undefined || to === undefined) return undefined
  if (!existsSync(from))
    input.problem('upload', from, 'does not exist on the runner; expected a local file or directory')
  if (!to.startsWith('/')) input.problem('upload-to', to, 'expected an absolute path on the host')
  return { from, to }
}

/** Fixed waits shorter than the health check's interval: valid, but the LB may not have caught up. */
export function warnAboutWaits({ offline, online }: LoadBalancerSettings, { intervalMs }: HealthSettings): string[] {
  const warnings: string[] = []
  if (!offline.probe && offline.waitMs < intervalMs) {
    warnings.push(
      `offline-wait (${offline.waitMs} ms) is shorter than health-interval (${intervalMs} ms): the load balancer may still send requests to a stopping host`
    )
  }
  if (!online.probe && online.waitMs < intervalMs) {
    warnings.push(
      `online-wait (${online.waitMs} ms) is shorter than health-interval (${intervalMs} ms): the next host may leave before this one is back in rotation`
    )
  }
  return warnings
}
