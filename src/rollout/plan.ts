// The dry-run plan: what would run where, in which batch, described from the steps' data.
import type { Settings } from '../inputs/settings.js'
import { bakeTimeMs } from './bake.js'
import { MARGIN_MS as AWS_MARGIN_MS } from '../load-balancer/aws-waits.js'
import { hostSideCommand } from '../load-balancer/host-side.js'
import { drainBound } from '../load-balancer/drain-bound.js'
import { hostSteps, restoreRotationSteps, rollBackSteps, type RotationStep, type Step } from './host-steps.js'
import { planBatches } from './placement.js'

const ms = (value: number) => `${value} ms`

/** One line of the plan for a step, from its data. */
function describeStep(step: Step, settings: Settings): string {
  const { action } = step
  switch (action.kind) {
    case 'upload':
      return `upload ${action.from} → ${action.to}`
    case 'command':
      return `${step.name}: ${action.command}`
    case 'rotation':
      return `${step.name}: ${describeRotation(action.change, settings, step.boundMs ?? 0)}`
    case 'switch':
      return `${step.name}: ${settings.release?.dir}/current → releases/${action.to}`
    case 'drain':
      return `${step.name}: until no connection is established on port ${action.port}, up to ${ms(step.boundMs ?? 0)}`
    case 'health': {
      const { url, command, intervalMs, timeoutMs } = settings.health
      const check = url ? `GET ${url} through SSH` : `run ${command}`
      const body = action.matchBody || settings.health.body === undefined ? '' : ' (status only)'
      return `${step.name}: ${check}${body} every ${ms(intervalMs)}, up to ${ms(timeoutMs)}`
    }
  }
}

/** A load balancer move, as the chosen adapter makes it. */
function describeRotation(change: RotationStep, settings: Settings, boundMs: number): string {
  const { kind, probeIntervalMs } = settings.loadBalancer
  const upTo = `up to ${ms(boundMs)}`
  switch (kind) {
    case 'haproxy':
      return {
        'take-out': 'set server … state drain on every HAProxy (runtime API)',
        'await-out': `until its sessions (scur) reach 0, ${upTo} (${drainBound(settings.loadBalancer).bound}), then state maint`,
        'put-back': 'set server … state ready on every HAProxy',
        'await-in': `until HAProxy's health check shows it UP, ${upTo}`
      }[change]
    case 'aws-elbv2':
      return {
        'take-out': 'DeregisterTargets, in each target group',
        'await-out': `until DescribeTargetHealth shows the target unused in every group (it drains for the group's deregistration delay), up to the longer of ${ms(boundMs)} and that delay + ${ms(AWS_MARGIN_MS)}`,
        'put-back': 'RegisterTargets, in each target group',
        'await-in': `until DescribeTargetHealth shows the target healthy in every group, up to the longer of ${ms(boundMs)} and the group's healthy threshold × interval + ${ms(AWS_MARGIN_MS)}; unhealthy after its unhealthy threshold fails at once`
      }[change]
    default: {
      if (change === 'take-out' || change === 'put-back')
        return hostSideCommand(settings, change === 'take-out' ? 'out' : 'in') ?? ''
      const [probeName, { probe }] =
        change === 'await-out'
          ? (['offline-probe', settings.loadBalancer.offline] as const)
          : (['online-probe', settings.loadBalancer.online] as const)
      if (probe === undefined) return ms(boundMs)
      return `until ${probeName} (on the runner, every ${ms(probeIntervalMs)}) exits 0, ${upTo}: ${probe}`
    }
  }
}

/** Release mode: what happens before the first host leaves rotation, and after the last is back. */
function describeRelease(settings: Settings): string[] {
  const { release } = settings
  if (!release) return []
  if (release.rollbackTo !== undefined) {
    return [
      `release mode, ${release.dir}: deploy nothing; each host rolls to ${release.rollbackTo === 'previous' ? `the release kept before current in ${release.dir}/.history` : `release ${release.rollbackTo}`}`
    ]
  }
  const prepare = [
    `${release.dir}/releases/${release.id} created`,
    ...(release.upload !== undefined ? [`${release.upload} uploaded into it (a .tar.gz/.tgz extracted)`] : []),
    ...(release.sharedPaths.length > 0
      ? [`shared paths linked from ${release.dir}/shared: ${release.sharedPaths.join(', ')}`]
      : []),
    ...(release.prepareCommand !== undefined ? [`prepare (in it): ${release.prepareCommand}`] : [])
  ]
  return [
    `release mode, ${release.dir}: release ${release.id}; a host already on it and healthy is left unchanged`,
    `before any host leaves rotation, on every host in parallel: ${prepare.join('; ')}`,
    `after the run: a success recorded in ${release.dir}/.history; ${release.keep} release(s) of that history kept per host (and always current and the one before; a release no run completed is removed); every host appends to ${release.dir}/deploy.log`,
    `rollback-scope ${release.rollbackScope}${release.rollbackScope === 'fleet' ? ': on a failure, every host this run switched goes back to its previous release, in reverse order, in batches; a failed rollback, a cancel or the capacity floor stops it before its next batch' : ''}`
  ]
}

/**
 * migrate-command: on which host, when, and what a failure does; or why it will not run
 * (`passed`: where and when this release's migration passed, as the hosts' histories say).
 */
function describeMigration(settings: Settings, passed?: string): string[] {
  const { migrate, release, commands } = settings
  if (!migrate) return []
  if (release?.rollbackTo !== undefined) return ['migrate-command: not run (rollback-to never runs it)']
  if (release && passed !== undefined && !migrate.always)
    return [
      `migrate-command: skipped: release ${release.id}'s migration passed ${passed} (migrate: always runs it again)`
    ]
  const once = `once, on ${migrate.host}, up to ${ms(commands.timeoutMs)}`
  const when = release
    ? `in ${release.dir}/releases/${release.id} after every host prepared, before any host switches; a failure removes the release from every host and no host leaves rotation`
    : `between its deploy and its start; a failure fails that host (undone as any failed step) and stops the rollout`
  return [`migrate (${once}, ${when}): ${migrate.command}`]
}

/** min-in-rotation, and the bake after each batch but the last. */
function describeGuards(settings: Settings, batches: number): string[] {
  const { capacity, bake } = settings
  const lines: string[] = []
  if (capacity) {
    lines.push(
      `before each batch leaves rotation: online-probe for every other host; at least ${capacity.minInRotation} in rotation, waiting up to ${ms(capacity.waitMs)}, or the rollout stops there`
    )
  }
  if (bake) {
    const times = Array.from(
      { length: batches - 1 },
      (_, b) => `${ms(bakeTimeMs(settings, b + 1))} after batch ${b + 1}`
    )
    const analysis = bake.analysis
      ? `, judged by analysis-command (on the runner, every ${ms(bake.analysis.intervalMs)} and at the end; ${bake.analysis.failures} failed measurement(s) fail the rollout): ${bake.analysis.command}`
      : ''
    if (times.length > 0) lines.push(`bake: ${times.join(', ')}${analysis}`)
  }
  return lines
}

/** The dry-run plan: what would run where, in order, with every wait, and what a failure undoes. */
export function describePlan(settings: Settings, migrationPassed?: string): string[] {
  const { size, pauseMs, maxFailedHosts } = settings.batches
  const batches = planBatches(settings.hosts, size)
  const describe = (steps: readonly Step[]) => steps.map((step) => describeStep(step, settings)).join('; ')
  const restore = restoreRotationSteps(settings)
  const rollBack = rollBackSteps(settings)
  return [
    `${settings.hosts.length} host(s) in ${batches.length} batch(es); stop after more than ${maxFailedHosts} failed host(s)` +
      (pauseMs > 0 ? `; ${ms(pauseMs)} between batches` : ''),
    ...batches.map((batch, i) => `batch ${i + 1}: ${batch.map((host) => host.entry).join(', ')}`),
    ...describeRelease(settings),
    ...describeMigration(settings, migrationPassed),
    ...describeGuards(settings, batches.length),
    'each host:',
    ...hostSteps(settings).map((step, i) => `  ${i + 1}. ${describeStep(step, settings)}`),
    ...(restore.length > 0 ? [`on failure before stop: back in rotation (${describe(restore)})`] : []),
    `on failure after stop: ${rollBack.length > 0 ? describe(rollBack) : 'the host stays out of rotation'}`
  ]
}
