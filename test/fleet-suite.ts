// What every fleet suite does around its tests: a fleet of real hosts (as root) started before
// them and stopped after, a scratch directory on the runner, and the one check of what users saw.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect } from '@jest/globals'
import { DEFAULT_RELEASES, startFleet, type Fleet } from './fleet/fleet.js'
import type { SshFleetOptions } from './fleet/ssh-hosts.js'
import { userVisibleErrors, type Seen } from './fleet/observe.js'
import { annotationsOf, type ActionRun } from './run-action.js'

/** The fleet tests need root (sshd per host, namespaces); elsewhere their suites are skipped. */
export const asRoot = process.getuid?.() === 0

/**
 * Starts `count` hosts (their sshd configured by `sshOptions`) before the suite's tests, handing
 * them and a scratch directory to `use`; stops them after.
 */
export function withFleet(
  count: number,
  scratchPrefix: string,
  use: (fleet: Fleet, scratch: string) => void,
  sshOptions: SshFleetOptions = {}
): void {
  let fleet: Fleet | undefined
  let scratch: string | undefined
  beforeAll(async () => {
    if (!asRoot) return
    fleet = await startFleet(count, DEFAULT_RELEASES, sshOptions)
    scratch = mkdtempSync(join(tmpdir(), scratchPrefix))
    use(fleet, scratch)
  })
  afterAll(async () => {
    await fleet?.close()
    if (scratch) rmSync(scratch, { recursive: true, force: true })
  })
}

/** Every request answered 200 by some host, and enough of them to mean something. */
export function expectNoUserVisibleErrors(observed: Seen): void {
  expect(userVisibleErrors(observed)).toEqual({ byStatus: {}, connectionErrors: {} })
  expect(observed.tally.requests).toBeGreaterThan(100)
}

/** The run succeeded; when it did not, the failure shows the run's error annotations, which say why. */
export function expectSucceeded(run: ActionRun): void {
  expect(annotationsOf(run.stdout).filter((annotation) => annotation.level === 'error')).toEqual([])
  expect(run.code).toBe(0)
}
