// The self-test job of .github/workflows/ci.yml, run here from the workflow file itself, step by
// step (test/workflow-job.ts): the fleet command's `up`, the action through `uses: ./` on v2 and
// then on a release that never turns healthy, the checks after each, and `down`. GitHub-hosted
// runners are out of reach here; this is how that job's every command is run before it ships.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { runWorkflowJob, type StepRun } from '../../test/workflow-job.js'

const dir = mkdtempSync(join(tmpdir(), 'self-test-'))
const fleetEnv = (name: string) => ({ ...process.env, FLEET_STATE: join(dir, `${name}.json`) })
const fleet = (name: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync('bash', ['scripts/fleet.sh', ...args], { env: { ...fleetEnv(name), ...env }, encoding: 'utf8' })

afterAll(() => {
  // A failed assertion mid-way must not leave a fleet up: down is harmless when none is.
  for (const name of ['job', 'check']) fleet(name, ['down'])
  rmSync(dir, { recursive: true, force: true })
})

const describeAsRoot = process.getuid?.() === 0 ? describe : describe.skip

describeAsRoot('the self-test job of ci.yml, run locally', () => {
  it('rolls the fleet through uses: ./ under traffic, then fails a broken release with its host left out', async () => {
    const job = await runWorkflowJob('.github/workflows/ci.yml', 'self-test', process.cwd(), {
      FLEET_STATE: join(dir, 'job.json')
    })
    const log = job.steps.map((step) => `── ${step.name}: ${step.outcome}\n${step.log}`).join('\n')
    const summary = (step: StepRun) => [step.id ?? step.name, step.how, step.outcome, step.conclusion]
    expect({ steps: job.steps.map(summary), log: job.conclusion === 'success' ? '' : log }).toEqual({
      steps: [
        ['actions/checkout@v5', 'provided', 'success', 'success'],
        ['actions/setup-node@v5', 'provided', 'success', 'success'],
        ['npm ci', 'provided', 'success', 'success'],
        ['fleet', 'run', 'success', 'success'],
        ['roll', 'action', 'success', 'success'],
        ['Check the outputs, every host on v2 and in rotation, no request failed', 'run', 'success', 'success'],
        ['broken', 'action', 'failure', 'success'],
        ['Check it failed on host 1, left out of rotation; the others still serve v2', 'run', 'success', 'success'],
        ['Stop the fleet (fails if any request through HAProxy failed)', 'run', 'success', 'success']
      ],
      log: ''
    })
    const [, , , up, roll, checkSuccess, broken, checkFailure, down] = job.steps
    expect(Object.keys(up.outputs)).toEqual(
      expect.arrayContaining(['hosts', 'private-key', 'known-hosts', 'health-file'])
    )
    expect(roll.outputs.result).toBe('success')
    expect(JSON.parse(roll.outputs['succeeded-hosts'])).toEqual(up.outputs.hosts.split('\n'))
    expect(broken.outputs.result).toBe('failure')
    expect(JSON.parse(broken.outputs['failed-hosts'])).toEqual([up.outputs.hosts.split('\n')[0]])
    // The checks said what they checked, and each held.
    expect(checkSuccess.log).toMatch(/✓ HAProxy: host3 in rotation\n/)
    expect(checkFailure.log).toMatch(/✓ HAProxy: host1 out of rotation\n/)
    expect(checkFailure.log).toMatch(/✓ host2 serves v2\n/)
    expect(`${checkSuccess.log}${checkFailure.log}`).not.toContain('✗')
    expect(down.log).toMatch(/Traffic: [1-9]\d* requests, 0 errors/)
  })

  it("the checks fail when the fleet does not match the action's outputs", () => {
    expect(fleet('check', ['up', '--hosts', '2', '--no-traffic']).status).toBe(0)
    const state = JSON.parse(readFileSync(join(dir, 'check.json'), 'utf8')) as { inputs: { hosts: string } }
    const entries = state.inputs.hosts.split('\n')
    // Outputs that claim success on a fleet still on v1: the versions give it away.
    const claimed = fleet('check', ['check', 'success', '--release', 'v2'], {
      ACTION_RESULT: 'success',
      ACTION_SUCCEEDED_HOSTS: JSON.stringify(entries),
      ACTION_FAILED_HOSTS: '[]',
      ACTION_REPORT: JSON.stringify(entries.map((host) => ({ host, result: 'succeeded', rotation: 'in' })))
    })
    expect(claimed.status).toBe(1)
    expect(claimed.stdout).toContain('✓ result is success')
    expect(claimed.stdout).toContain('✗ host1 serves v2: got "v1"')
    // A host said to be out of rotation that HAProxy still sends traffic to.
    const out = fleet('check', ['check', 'failure', '--failed', '1', '--release', 'v1'], {
      ACTION_RESULT: 'failure',
      ACTION_SUCCEEDED_HOSTS: '[]',
      ACTION_FAILED_HOSTS: JSON.stringify(entries.slice(0, 1)),
      ACTION_REPORT: JSON.stringify([
        { host: entries[0], result: 'failed', rotation: 'out' },
        { host: entries[1], result: 'skipped', rotation: 'in' }
      ])
    })
    expect(out.status).toBe(1)
    expect(out.stdout).toContain('✗ HAProxy: host1 out of rotation: got "UP"')
    expect(out.stdout).toContain('✓ host2 serves v1')
    expect(fleet('check', ['down']).stdout).toContain('Fleet stopped.')
  })
})
