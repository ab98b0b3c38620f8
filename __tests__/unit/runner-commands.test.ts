// The probes' shell on the runner, with real processes: exit codes, variables, timeouts that end
// a whole pipeline, cancellation, and no secret inputs in a probe's environment.
import { afterEach, describe, expect, it } from '@jest/globals'
import { localRunner } from '../../src/runner/local-runner.js'

const run = (command: string, timeoutMs = 5000, signal = new AbortController().signal) =>
  localRunner.run(command, { env: [['ROLLOUT_HOST', '10.0.0.7']], timeoutMs, signal })

describe('localRunner', () => {
  afterEach(() => {
    delete process.env['INPUT_PASSWORD']
    delete process.env['ROLLOUT_SHELL_TEST']
  })

  it('runs by sh with the rollout variables and reports the exit code and the last line', async () => {
    await expect(run('echo "host $ROLLOUT_HOST"; echo "still up" >&2; exit 3')).resolves.toEqual({
      code: 3,
      timedOut: false,
      lastLine: 'still up'
    })
    await expect(run('true')).resolves.toMatchObject({ code: 0 })
  })

  it('does not hand the action inputs (secrets among them) to a probe', async () => {
    process.env['INPUT_PASSWORD'] = 'hunter2-secret'
    process.env['ROLLOUT_SHELL_TEST'] = 'visible'
    expect((await run('echo "$ROLLOUT_SHELL_TEST"')).lastLine).toBe('visible') // the rest of the environment stays
    expect((await run('env | grep -c hunter2-secret || true')).lastLine).toBe('0')
  })

  it('ends a whole pipeline at the timeout', async () => {
    const started = Date.now()
    const result = await run('sleep 30 | sleep 30', 300)
    expect(result).toMatchObject({ code: null, timedOut: true })
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('ends the probe when the rollout is cancelled', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const started = Date.now()
    const result = await run('sleep 30', 10_000, controller.signal)
    expect(result).toMatchObject({ code: null, timedOut: false })
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
