// The aws-elbv2 adapter with the real AWS SDK against the local ELBv2 stand-in, which it reaches
// through the SDK's own environment (AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2, AWS_ACCESS_KEY_ID...)
// and which health-checks real HTTP servers; traffic goes through the stand-in's listener.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as pause } from 'node:timers/promises'
import { awsElbv2Balancer } from '../../src/load-balancer/aws-elbv2.js'
import type { LbDeps } from '../../src/load-balancer/lb-deps.js'
import { NEVER_ABORTED, systemClock, type LbMember, type LoadBalancer } from '../../src/ports.js'
import { PreflightError } from '../../src/rollout/preflight.js'
import { countByAction, startElbv2StandIn, type Elbv2StandIn } from '../../test/fleet/elbv2-stand-in.js'
import { startListener, type StandInListener } from '../../test/fleet/elbv2-listener.js'
import { startTraffic } from '../../test/fleet/traffic.js'
import { FakeClock, FakeHost, RecordingLog, settingsWith } from '../../test/fakes/fakes.js'

const CREDENTIALS = {
  accessKeyId: 'AKIASTANDIN000000001',
  secretAccessKey: 'stand-in-secret/+key',
  sessionToken: 'tok'
}
const GROUP = { port: 80, intervalS: 1, healthyThreshold: 2, unhealthyThreshold: 2, healthPath: '/health' }

/** A real HTTP server on 127.0.0.1: `/health` answers `healthStatus`, anything else `version=…`. */
class App {
  healthStatus = 200
  server?: Server
  port = 0
  async start(port = 0) {
    this.server = createServer((request, response) => {
      const status = request.url === '/health' ? this.healthStatus : 200
      response.writeHead(status, { 'content-type': 'text/plain' }).end(`version=${this.port}\n`)
    })
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
  }
  async stop() {
    this.server?.closeAllConnections()
    await new Promise((resolve) => this.server?.close(resolve))
  }
}

const apps = [new App(), new App()]
let standIn: Elbv2StandIn
let listener: StandInListener
const savedEnv = { ...process.env }

beforeAll(async () => {
  for (const app of apps) await app.start()
  const registered = apps.map((app) => ({ id: '127.0.0.1', port: app.port }))
  standIn = await startElbv2StandIn({
    credentials: CREDENTIALS,
    groups: [
      { name: 'web', delayS: 1, registered, ...GROUP },
      { name: 'api', delayS: 2, registered, ...GROUP },
      { name: 'orphan', delayS: 1, registered, attached: false, ...GROUP }
    ]
  })
  listener = await startListener(standIn.groups[0])
  // What aws-actions/configure-aws-credentials leaves, and the SDK's endpoint variable: nothing else.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: standIn.endpoint
  })
})
afterAll(async () => {
  process.env = savedEnv
  await listener?.close()
  await standIn?.close()
  for (const app of apps) await app.stop()
})

function balancer(groups: string[], inputs: Record<string, string> = {}) {
  const settings = settingsWith({
    hosts: 'deploy@web1\ndeploy@web2',
    'health-file': '',
    'load-balancer': 'aws-elbv2',
    'target-groups': groups.map((name) => standIn.arnOf(name)).join('\n'),
    'aws-targets': apps.map((app, i) => `deploy@web${i + 1}=127.0.0.1:${app.port}`).join('\n'),
    'probe-interval': '250ms',
    ...inputs
  })
  const log = new RecordingLog()
  const deps = { settings, clock: systemClock, log } as unknown as LbDeps
  const lb = awsElbv2Balancer(deps, settings.loadBalancer.awsElbv2 ?? { targetGroups: [], targets: new Map() })
  const clock = new FakeClock()
  const members: LbMember[] = settings.hosts.map((target) => ({ host: new FakeHost(target, clock), env: [] }))
  return { lb, log, members }
}

/** Requests to the stand-in since `from`, by Action. */
const countsSince = (from: number) => countByAction(standIn.requests.slice(from))

/** One host's cycle, its app restarted while out: how long out and in took, and the API calls it made. */
async function rollOne(lb: LoadBalancer, member: LbMember, app: App) {
  const cycle = standIn.requests.length
  const started = Date.now()
  await lb.takeOut(member, NEVER_ABORTED)
  await lb.awaitOut(member, NEVER_ABORTED)
  const outMs = Date.now() - started
  await app.stop() // the deploy: nothing may reach it now
  await app.start(app.port)
  const back = Date.now()
  await lb.putBack(member, NEVER_ABORTED)
  await lb.awaitIn(member, NEVER_ABORTED)
  return { outMs, inMs: Date.now() - back, perHost: countsSince(cycle) }
}

describe('aws-elbv2 through the real SDK against the ELBv2 stand-in', () => {
  it('rolls a host out of two target groups and back in, with no error for users, in few API calls', async () => {
    const { lb, log, members } = balancer(['web', 'api'])
    const traffic = startTraffic(listener.port, 4, 5)
    const before = standIn.requests.length
    expect(await lb.describe(members, NEVER_ABORTED)).toEqual(
      apps.map((app) => `web 127.0.0.1:${app.port}: healthy; api 127.0.0.1:${app.port}: healthy`)
    )
    const preflight = countsSince(before)
    const started = Date.now()
    const { outMs, inMs, perHost } = await rollOne(lb, members[0], apps[0])
    const mine = `127.0.0.1:${apps[0].port}`
    const servedBack = listener.served[mine] ?? 0
    await pause(300)
    expect(listener.served[mine]).toBeGreaterThan(servedBack) // in rotation again, really
    const tally = await traffic.stop()
    await lb.close()
    // api's 2 s delay bounds the out; two passing checks 1 s apart the in.
    expect(outMs).toBeGreaterThanOrEqual(2000)
    expect(outMs).toBeLessThan(5000)
    expect(inMs).toBeGreaterThanOrEqual(1000)
    expect(inMs).toBeLessThan(5000)
    expect({ connectionErrors: tally.connectionErrors, byStatus: Object.keys(tally.byStatus) }).toEqual({
      connectionErrors: {},
      byStatus: ['200']
    })
    expect(tally.requests).toBeGreaterThan(100)
    expect(preflight).toEqual({ DescribeTargetGroups: 1, DescribeTargetGroupAttributes: 2, DescribeTargetHealth: 2 })
    expect(perHost.DeregisterTargets).toBe(2)
    expect(perHost.RegisterTargets).toBe(2)
    expect(perHost.DescribeTargetHealth).toBeLessThanOrEqual(2 * Math.ceil((outMs + inMs) / 250) + 4)
    // Only the host's own target was ever asked about: never a whole group.
    expect(standIn.requests.filter((r) => r.action === 'DescribeTargetHealth' && r.targets === undefined)).toEqual([])
    const seen = standIn.transitions
      .filter((t) => t.target === mine && t.at >= started)
      .map((t) => `${t.group} ${t.from}→${t.to}`)
    expect(seen).toEqual(
      expect.arrayContaining([
        'web healthy→draining',
        'web draining→unused',
        'api draining→unused',
        'web unused→initial',
        'web initial→healthy',
        'api initial→healthy'
      ])
    )
    expect(log.lines).toContain(
      `[deploy@web1] draining: web 1 s, api 2 s (deregistration_delay.timeout_seconds); waiting up to 32 s for unused`
    )
    expect(log.lines.join('\n')).not.toContain(CREDENTIALS.secretAccessKey)
    expect(standIn.refused).toEqual([])
  }, 30_000)

  it('fails at once when the target turns unhealthy after its threshold of checks, long before the bound', async () => {
    const { lb, members } = balancer(['web', 'api'])
    await lb.takeOut(members[1], NEVER_ABORTED)
    await lb.awaitOut(members[1], NEVER_ABORTED)
    apps[1].healthStatus = 503 // a release the load balancer's check refuses
    try {
      await lb.putBack(members[1], NEVER_ABORTED)
      const started = Date.now()
      const failed = (await lb.awaitIn(members[1], NEVER_ABORTED).catch((error: unknown) => error)) as Error
      // The bound is max(online-wait 8 s, 2 checks × 1 s + 30 s); the threshold is 2 checks × 1 s.
      expect(Date.now() - started).toBeLessThan(5000)
      expect(failed.message).toMatch(
        new RegExp(
          `^127\\.0\\.0\\.1:${apps[1].port} is unhealthy \\(Target\\.ResponseCodeMismatch\\) in target group (web|api): ` +
            'Health checks failed with these codes: \\[503\\] \\(after [234] s, 2 failed checks every 1 s\\)$'
        )
      )
    } finally {
      // Fixed (rolled back): put back again, it was left registered and unhealthy, and recovers.
      apps[1].healthStatus = 200
      await lb.putBack(members[1], NEVER_ABORTED)
      await lb.awaitIn(members[1], NEVER_ABORTED)
      await lb.close()
    }
  }, 60_000)

  it('refuses at preflight a target group attached to no load balancer', async () => {
    const before = standIn.requests.length
    const { lb, members } = balancer(['web', 'orphan'])
    const failed = await lb.describe(members, NEVER_ABORTED).catch((error: unknown) => error)
    await lb.close()
    expect(failed).toBeInstanceOf(PreflightError)
    expect((failed as Error).message).toContain(
      '- deploy@web1: aws-elbv2: target group orphan is attached to no load balancer, so its targets read unused whether or not they serve'
    )
    expect(countsSince(before)).toEqual({ DescribeTargetGroups: 1 })
  })

  it('is refused by the stand-in when signed with another secret (its signature check is real)', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret'
    const refusedBefore = standIn.refused.length
    const { lb, members } = balancer(['web'])
    const failed = (await lb.describe(members, NEVER_ABORTED).catch((error: unknown) => error)) as Error
    process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey
    await lb.close()
    expect(failed).toBeInstanceOf(PreflightError)
    expect(failed.message).toContain('The request signature we calculated does not match the signature you provided')
    expect(failed.message).not.toContain('not-the-secret')
    expect(standIn.refused.length).toBeGreaterThan(refusedBefore)
  })

  it('reaches the stand-in through AWS_ENDPOINT_URL too, the SDK variable for every service', async () => {
    delete process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2
    process.env.AWS_ENDPOINT_URL = standIn.endpoint
    try {
      const { lb, members } = balancer(['web'])
      expect(await lb.inRotation(members[0])).toBe('in')
      await lb.close()
    } finally {
      delete process.env.AWS_ENDPOINT_URL
      process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = standIn.endpoint
    }
  })
})
