// The ways of rolling the fleet that the rollout benchmark compares: the action with fixed waits,
// the action with probes reading HAProxy's admin socket, the seed's own method (an ssh loop over
// appctl.sh with fixed sleeps), the guards (lock, capacity floor) and release mode against the same
// preparation inside the window.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { APPCTL, type Fleet } from '../test/fleet/fleet.js'
import { CHECK } from '../test/fleet/haproxy.js'
import { HOST_VIEW, sshRunAsync } from '../test/fleet/ssh-hosts.js'
import { runAction, type RunOptions } from '../test/run-action.js'

export const HOSTS = 4
/** Each traffic client waits this long between requests: ~1000 requests/s in all, not a flood. */
export const THINK_MS = 5
/**
 * The seed's SLB checks every 2 s and its appctl.sh sleeps 8 s after offline and after online and
 * polls health every 1 s; the fleet's HAProxy checks every 100 ms, so every fixed wait shrinks by
 * the same factor.
 */
const SCALE = CHECK.interMs / 2000
export const FIXED_WAIT_MS = 8000 * SCALE
export const HEALTH_POLL_MS = 1000 * SCALE
/** A release whose preparation takes this many seconds: in release mode, and inside the window. */
export const PREPARE_S = 2

/** A way to roll the fleet: how to run it (round `r`), and the version every host serves after. */
export interface Method {
  readonly name: string
  readonly run: (options: RunOptions, r: number) => Promise<unknown>
  readonly version: (r: number) => string
}

const v2 = () => 'v2'

/** The seed's method: per host, `appctl.sh stop` (offline, sleep, stop), deploy, `appctl.sh start` (start, health loop, online, sleep). */
async function seedLoop(fleet: Fleet, cpus?: string): Promise<void> {
  const sleep = (FIXED_WAIT_MS / 1000).toFixed(3)
  const poll = (HEALTH_POLL_MS / 1000).toFixed(3)
  const health = `curl -s -o /dev/null -w '%{http_code}' "http://$HOST_ADDRESS:${fleet.appPort}/health"`
  for (const host of fleet.hosts) {
    await sshRunAsync(fleet.ssh, host, `${APPCTL} offline && sleep ${sleep} && ${APPCTL} stop`, cpus)
    await sshRunAsync(fleet.ssh, host, `${APPCTL} deploy v2`, cpus)
    await sshRunAsync(
      fleet.ssh,
      host,
      `${APPCTL} start && until [ "$(${health})" = 200 ]; do sleep ${poll}; done && ${APPCTL} online && sleep ${sleep}`,
      cpus
    )
  }
}

/** The action with probes reading HAProxy's admin socket, with `overrides`. */
function probeInputs(fleet: Fleet, overrides: Record<string, string> = {}): Record<string, string> {
  return fleet.inputs({
    ...fleet.probeInputs('25ms'),
    'offline-wait': '5s',
    'online-wait': '5s',
    'health-interval': `${HEALTH_POLL_MS}ms`,
    ...overrides
  })
}

/** The action with `inputs`, on `cpus` when given (the bench's pinned runs). */
const actionWith =
  (inputs: Record<string, string>, cpus?: string) =>
  (options: RunOptions): Promise<unknown> =>
    runAction(inputs, { ...options, cpus })

/** The action with fixed waits, with probes, and the seed's loop; the action (and the loop) on `cpus`. */
export function baseMethods(fleet: Fleet, cpus?: string): Method[] {
  const fixed = fleet.inputs({
    'offline-wait': `${FIXED_WAIT_MS}ms`,
    'online-wait': `${FIXED_WAIT_MS}ms`,
    'health-interval': `${HEALTH_POLL_MS}ms`
  })
  return [
    { name: 'action, fixed waits', run: actionWith(fixed, cpus), version: v2 },
    { name: 'action, probes (HAProxy admin socket)', run: actionWith(probeInputs(fleet), cpus), version: v2 },
    { name: "seed's ssh loop over appctl.sh, fixed sleeps", run: () => seedLoop(fleet, cpus), version: v2 }
  ]
}

/** The probes method without the deploy lock, with it (the default), and with the capacity floor too. */
export function guardMethods(fleet: Fleet): Method[] {
  const method = (name: string, overrides: Record<string, string>): Method => ({
    name,
    run: actionWith(probeInputs(fleet, overrides)),
    version: v2
  })
  return [
    method('probes, lock: false', { lock: 'false' }),
    method('probes, lock: true (the default)', {}),
    method('probes, lock and min-in-rotation: 3', { 'min-in-rotation': '3' })
  ]
}

/** A release whose preparation takes PREPARE_S: in release mode (`tag` names its releases), and as a deploy-command inside the window. */
export function releaseMethods(fleet: Fleet, cpus: string | undefined, tag: string): Method[] {
  const id = (r: number) => `bench-${tag}-${r}`
  const releaseMode = (options: RunOptions, r: number) => {
    const artifact = mkdtempSync(join(tmpdir(), 'rollout-bench-release-'))
    writeFileSync(join(artifact, 'VERSION'), `${id(r)}\n`)
    const { 'deploy-command': _deploy, ...inputs } = probeInputs(fleet, {
      'release-dir': HOST_VIEW,
      'release-id': id(r),
      upload: artifact,
      'prepare-command': `sleep ${PREPARE_S}`,
      'health-body': `version=${id(r)}`
    })
    return runAction(inputs, { ...options, cpus }).finally(() => rmSync(artifact, { recursive: true, force: true }))
  }
  const inWindow = probeInputs(fleet, { 'deploy-command': `sleep ${PREPARE_S}; ${APPCTL} deploy v2` })
  return [
    { name: `release mode, prepare-command: sleep ${PREPARE_S} while serving`, run: releaseMode, version: id },
    { name: `deploy-command: sleep ${PREPARE_S} inside the window`, run: actionWith(inWindow, cpus), version: v2 }
  ]
}
