import { describe, expect, it } from '@jest/globals'
import { describePlan } from '../../src/rollout/plan.js'
import { batchSizes, planBatches } from '../../src/rollout/placement.js'
import { settingsWith } from '../../test/fakes/fakes.js'

describe('batchSizes (Ansible serial semantics)', () => {
  it.each([
    [4, [{ count: 1 }], [1, 1, 1, 1]],
    [5, [{ count: 2 }], [2, 2, 1]],
    [10, [{ count: 1 }, { percent: 25 }, { percent: 100 }], [1, 2, 7]],
    [6, [{ count: 1 }, { percent: 50 }], [1, 3, 2]],
    [3, [{ percent: 10 }], [1, 1, 1]],
    [2, [{ count: 5 }], [2]],
    [0, [{ count: 1 }], []]
  ])('%d hosts with %j → %j', (total, steps, sizes) => expect(batchSizes(total, steps)).toEqual(sizes))

  it('plans every host exactly once, in order', () => {
    const hosts = Array.from({ length: 11 }, (_, i) => i)
    const batches = planBatches(hosts, [{ count: 1 }, { percent: 30 }])
    expect(batches.flat()).toEqual(hosts)
    expect(batches.map((b) => b.length)).toEqual([1, 3, 3, 3, 1])
  })
})

describe('describePlan', () => {
  it('lists batches, steps in order, commands and waits', () => {
    const plan = describePlan(settingsWith({ 'batch-size': '1,50%', 'deploy-command': 'tar xzf /tmp/app.tgz' })).join(
      '\n'
    )
    expect(plan).toContain('4 host(s) in 3 batch(es)')
    expect(plan).toContain('batch 2: deploy@h2, deploy@h3')
    const order = [
      'offline: rm -f',
      'offline-wait: 8000 ms',
      'stop: appctl stop',
      'deploy: tar xzf',
      'start: appctl start',
      'health: GET http://127.0.0.1:8080/health',
      'online: touch'
    ]
    const positions = order.map((text) => plan.indexOf(text))
    expect(positions.every((p) => p >= 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
  })
  it('shows probes as bounded waits and the drain', () => {
    const plan = describePlan(
      settingsWith({ 'offline-probe': 'lb out', 'drain-timeout': '30s', 'drain-port': '80' })
    ).join('\n')
    expect(plan).toContain(
      '2. offline-wait: until offline-probe (on the runner, every 500 ms) exits 0, up to 8000 ms: lb out'
    )
    expect(plan).toContain('3. drain: until no connection is established on port 80, up to 30000 ms')
    expect(plan).toContain('online-wait: 8000 ms')
  })
})

describe('the dry-run plan in release mode', () => {
  it('shows the preparation before any host leaves rotation, the switch, and what happens after', () => {
    const plan = describePlan(
      settingsWith({
        'release-dir': '/srv/app',
        'release-id': 'r9',
        upload: 'package.json',
        'shared-paths': '.env',
        'prepare-command': 'npm ci',
        'rollback-scope': 'fleet'
      })
    ).join('\n')
    expect(plan).toContain(
      'before any host leaves rotation, on every host in parallel: /srv/app/releases/r9 created; package.json uploaded into it (a .tar.gz/.tgz extracted); shared paths linked from /srv/app/shared: .env; prepare (in it): npm ci'
    )
    expect(plan).toMatch(
      /stop: appctl stop\n {2}\d+\. switch: \/srv\/app\/current → releases\/r9\n {2}\d+\. start: appctl start/
    )
    expect(plan).toContain('rollback-scope fleet: on a failure, every host this run switched goes back')
  })
})
