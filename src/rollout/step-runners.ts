// What each kind of step does on a host (host-steps.ts says which steps, in which order). Each
// runner resolves once its step is done and throws, with the words the report uses, if it failed.
import { expandVariables } from '../inputs/parse.js'
import type { Settings } from '../inputs/settings.js'
import type { Clock, Log, LoadBalancer, RemoteHost } from '../ports.js'
import { switchRelease } from '../ssh/release-scripts.js'
import { drainScript } from '../ssh/remote-scripts.js'
import { judgeResponse } from './health.js'
import { HEALTH_LINES } from './evidence.js'
import { throwIfFailed } from './run-on-host.js'
import type { RotationStep, StepAction } from './host-steps.js'
import { exitVerdict } from '../load-balancer/host-side.js'
import { pollUntil, type Verdict } from './poll.js'

/** One host's run, as its steps see it. */
export interface StepContext {
  readonly host: RemoteHost
  /** How the host leaves and rejoins the load balancer. */
  readonly lb: LoadBalancer
  readonly settings: Settings
  readonly clock: Clock
  readonly log: Log
  /** The variables every command and probe gets: the host's ROLLOUT_* and the env input. */
  readonly env: readonly (readonly [string, string])[]
  /** A line the host printed: to the log, and to the tail the summary shows. */
  readonly output: (line: string) => void
  /** Where a step's command records its process group on the host: beside the journal entry. */
  readonly groupFile?: string
  /** A health check's answer that did not pass: its status or exit code, and its body or output. */
  readonly sawHealth?: (answer: string, body: string) => void
}

export function runStep(context: StepContext, action: StepAction, signal: AbortSignal): Promise<void> {
  switch (action.kind) {
    case 'upload':
      return context.host.upload(action.from, action.to)
    case 'command':
      return runCommand(context, action.command, signal)
    case 'rotation':
      return changeRotation(context, action.change, signal)
    case 'drain':
      return drain(context, action.port, signal)
    case 'switch':
      return runCommand(context, switchRelease(context.settings.release?.dir ?? '', action.to), signal)
    case 'health':
      return checkHealth(context, action, signal)
  }
}

async function runCommand(context: StepContext, command: string, signal: AbortSignal): Promise<void> {
  const { timeoutMs } = context.settings.commands
  const { env, output, groupFile } = context
  const result = await context.host.exec(command, { env, timeoutMs, signal, onLine: output, groupFile })
  throwIfFailed(result, timeoutMs, signal)
}

async function checkHealth(
  { host, settings, clock, log, env, sawHealth }: StepContext,
  { matchBody, timeoutMs = settings.health.timeoutMs }: Extract<StepAction, { kind: 'health' }>,
  signal: AbortSignal
) {
  const { url, command, statuses, body, intervalMs } = settings.health
  const expanded = url === undefined ? undefined : new URL(expandVariables(url, new Map(env)))
  const attempt = async (budgetMs: number): Promise<Verdict> => {
    if (expanded) {
      const response = await host.httpGet(expanded, { timeoutMs: budgetMs, signal })
      const verdict = judgeResponse(response, statuses, matchBody ? body : undefined)
      if (!verdict.ok) sawHealth?.(`HTTP ${response.status}`, response.body)
      return verdict
    }
    const lines: string[] = []
    const onLine = (line: string) => void (lines.length < HEALTH_LINES && lines.push(line))
    const verdict = exitVerdict(await host.exec(command ?? 'false', { env, timeoutMs: budgetMs, signal, onLine }))
    if (!verdict.ok) sawHealth?.(verdict.detail, lines.join('\n'))
    return verdict
  }
  const verdict = await pollUntil(attempt, {
    clock,
    timeoutMs,
    intervalMs,
    signal,
    waitingFor: 'the health check',
    failed: 'not healthy',
    onAttempt: (seen, count) => {
      if (!seen.ok && count % 5 === 1)
        log.info(`[${host.target.entry}] not healthy yet (attempt ${count}): ${seen.detail}`)
    }
  })
  log.info(`[${host.target.entry}] healthy: ${verdict.detail}`)
}

/** A load balancer move, through the port, for this host. */
function changeRotation({ lb, host, env, output }: StepContext, change: RotationStep, signal: AbortSignal) {
  const member = { host, env, output }
  switch (change) {
    case 'take-out':
      return lb.takeOut(member, signal)
    case 'await-out':
      return lb.awaitOut(member, signal)
    case 'put-back':
      return lb.putBack(member, signal)
    case 'await-in':
      return lb.awaitIn(member, signal)
  }
}

/**
 * Waits until the host has no established connection left on `port`, so in-flight requests
 * finish; past the timeout the host is stopped anyway, with a warning.
 */
async function drain({ host, log, settings, env, output }: StepContext, port: number, signal: AbortSignal) {
  const { probeIntervalMs, drain } = settings.loadBalancer
  const timeoutMs = drain?.timeoutMs ?? 0
  let open = ''
  const result = await host.exec(drainScript(port, probeIntervalMs), {
    env,
    timeoutMs,
    signal,
    onLine: (line) => {
      if (!/^\d+$/.test(line)) return output(line)
      open = line
      log.info(`[${host.target.entry}] ${line} connection(s) open on port ${port}`)
    }
  })
  if (result.timedOut) {
    log.warning(
      `${host.target.entry}: ${open || 'some'} connection(s) still open on port ${port} after drain-timeout (${timeoutMs} ms); stopping anyway`,
      'Drain incomplete'
    )
    return
  }
  throwIfFailed(result, timeoutMs, signal)
}
