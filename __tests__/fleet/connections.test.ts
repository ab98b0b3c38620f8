// max-connections on a real fleet, through the bundled action: 8 hosts with at most 3 SSH
// connections open at once and batches of 2, under live traffic. Idle hosts are disconnected
// and reconnected as the batches move on; the action's own counters say how many were open.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { DEFAULT_RELEASES, startFleet, type Fleet } from '../../test/fleet/fleet.js'
import { rollUnderTraffic, userVisibleErrors } from '../../test/fleet/observe.js'
import { runAction } from '../../test/run-action.js'

describe('8 hosts, max-connections 3, batch-size 2', () => {
  let fleet: Fleet
  beforeAll(async () => {
    fleet = await startFleet(8)
  })
  afterAll(async () => fleet?.close())

  it('rolls every host under traffic with 0 errors and never more than 3 connections open', async () => {
    await fleet.reset()
    const observed = await rollUnderTraffic(fleet, fleet.inputs({ 'max-connections': '3', 'batch-size': '2' }))
    expect(observed.run.code).toBe(0)
    expect(userVisibleErrors(observed)).toEqual({ byStatus: {}, connectionErrors: {} })
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
    const connections = JSON.parse(observed.run.outputs.connections) as Record<string, number>
    expect(connections).toEqual({
      limit: 3,
      peakOpen: expect.any(Number),
      opened: expect.any(Number),
      handshakeRetries: 0
    })
    expect(connections.peakOpen).toBeLessThanOrEqual(3)
    // Preflight parks hosts to reach all 8, and the batches reconnect them.
    expect(connections.opened).toBeGreaterThan(8)
    expect(observed.run.stdout).toMatch(/SSH connections: at most [0-3] open at once \(max-connections 3\)/)
    // A host disconnected to make room reconnects without calling it a lost connection.
    expect(observed.run.stdout).not.toMatch(/connection was lost/)
  }, 240_000)
})

describe('6 hosts through a jump host whose sshd drops past 2 handshakes (MaxStartups 2:100:2)', () => {
  let fleet: Fleet
  let jump: Record<string, string>
  beforeAll(async () => {
    fleet = await startFleet(6, DEFAULT_RELEASES, { maxStartups: '2:100:2' }, { lbHosts: 1 })
    const [bastion] = fleet.lbHosts
    jump = { 'jump-host': `${fleet.ssh.user}@${bastion.address}:${bastion.port}`, 'connect-attempts': '6' }
  })
  afterAll(async () => fleet?.close())

  it('counts each hop: max-connections 4 holds two hosts at once, and the rollout succeeds', async () => {
    await fleet.reset()
    const run = await runAction(fleet.inputs({ ...jump, 'max-connections': '4', 'batch-size': '1' }))
    expect(run.code).toBe(0)
    for (const host of fleet.hosts) expect(await fleet.version(host)).toBe('v2')
    const connections = JSON.parse(run.outputs.connections) as Record<string, number>
    expect(connections.peakOpen).toBeLessThanOrEqual(4)
    expect(connections.peakOpen).toBeGreaterThanOrEqual(2) // a host is 2: the bastion's and its own
  }, 240_000)

  it('every host connected at once through the bastion: dropped handshakes are retried, said, and none fails', async () => {
    await fleet.reset()
    const run = await runAction(fleet.inputs({ ...jump, 'batch-size': '6' }))
    expect(run.code).toBe(0)
    const connections = JSON.parse(run.outputs.connections) as Record<string, number>
    const retried = run.stdout.match(/connection attempt \d+ failed \(.+\); retrying in \d+ ms/g) ?? []
    expect(retried).toHaveLength(connections.handshakeRetries)
    console.log(`MaxStartups 2:100:2 through a bastion: ${JSON.stringify(connections)}; retries said: ${retried[0]}`)
  }, 240_000)
})
