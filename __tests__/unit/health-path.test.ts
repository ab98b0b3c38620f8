// The health path preflight proves, through fake hosts: which hosts need curl, what a request with
// it sends and how its answer is read, and what fails preflight. The real sshd cases are in
// preflight-fleet.test.ts; the curl and wget scripts run here against a real local HTTP server.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  FakeClock,
  fakeConnector,
  fakeFleet,
  RecordingLog,
  settingsWith,
  type FakeHost
} from '../../test/fakes/fakes.js'
import { NEVER_ABORTED } from '../../src/ports.js'
import { programOf, proveHealthPath } from '../../src/rollout/health-path.js'
import { PreflightError, preflightVisiting } from '../../src/rollout/preflight.js'
import { placeTargets } from '../../src/rollout/placement.js'
import type { Settings } from '../../src/inputs/settings.js'
import type { Log } from '../../src/ports.js'
import { FIND_HTTP_CLIENT, findProgram, getOnHost } from '../../src/ssh/health-scripts.js'

/** Preflight's visit of each host, as the run makes it: connected, then its health path proven. */
async function proveHealthPaths(hosts: FakeHost[], settings: Settings, log: Log) {
  const places = placeTargets(settings.hosts, settings.batches.size)
  const visited = await preflightVisiting(
    settings.hosts,
    fakeConnector(hosts),
    new AbortController().signal,
    (host, i) => proveHealthPath(host, settings, places[i], log)
  )
  return visited.map(({ found }) => found)
}

describe('proving each host’s health path at preflight', () => {
  it('keeps hosts that forward, and runs the checks of a host whose sshd refuses tunnels with its curl', async () => {
    const settings = settingsWith({ 'health-url': 'http://${ROLLOUT_HOST}:8080/health' })
    const hosts = fakeFleet(settings, new FakeClock())
    hosts[1].tunnelRefusal = '(SSH) Channel open failure: open failed'
    hosts[1].reply = (command) =>
      command === FIND_HTTP_CLIENT
        ? { lines: ['curl'] }
        : { lines: ['version=v2', `${command.match(/__rollout_status_[0-9a-f]+/)?.[0]} 200`] }
    const log = new RecordingLog()
    const proven = await proveHealthPaths(hosts, settings, log)
    expect(proven.map((one) => one.healthPath)).toEqual([
      'SSH tunnel to h1:8080',
      'curl on the host (sshd refuses tunnels)',
      'SSH tunnel to h3:8080',
      'SSH tunnel to h4:8080'
    ])
    expect(proven[0].host).toBe(hosts[0])
    expect(log.lines).toEqual([
      `[deploy@h2] its sshd refuses the SSH tunnel to h2:8080 for health-url ((SSH) Channel open failure: open failed: AllowTcpForwarding or PermitOpen in its sshd_config): its health checks run with curl on the host`
    ])
    const response = await proven[1].host.httpGet(new URL('http://h2:8080/health'), {
      timeoutMs: 2000,
      signal: NEVER_ABORTED
    })
    expect(response).toEqual({ status: 200, body: 'version=v2' })
    expect(hosts[1].commands.at(-1)).toMatch(/^curl .* --max-time 2 .* --url 'http:\/\/h2:8080\/health'$/)
  })

  it('fails naming each host without a path, and closes every host', async () => {
    const settings = settingsWith()
    const hosts = fakeFleet(settings, new FakeClock())
    hosts[2].tunnelRefusal = 'open failed'
    hosts[2].reply = () => ({ code: 1 })
    const failure = await proveHealthPaths(hosts, settings, new RecordingLog()).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(PreflightError)
    expect((failure as PreflightError).failures).toEqual([
      {
        target: hosts[2].target,
        message: expect.stringMatching(
          /^its sshd refuses the SSH tunnel to 127\.0\.0\.1:8080 .*AllowTcpForwarding.*, and neither curl nor wget is on its PATH/
        )
      }
    ])
    expect(hosts.every((host) => host.closed)).toBe(true)
  })

  it("checks health-command's program on each host with the host's variables", async () => {
    const settings = settingsWith({ 'health-url': '', 'health-command': 'LANG=C app-health --ready' })
    const hosts = fakeFleet(settings, new FakeClock())
    hosts[3].reply = (command) => ({ code: command === findProgram('app-health') ? 127 : 0 })
    const failure = (await proveHealthPaths(hosts, settings, new RecordingLog()).catch(
      (e: unknown) => e
    )) as PreflightError
    expect(failure.failures.map(({ target, message }) => [target.entry, message])).toEqual([
      ['deploy@h4', "health-command's program app-health is not on the host's PATH (command -v app-health failed)"]
    ])
    expect(hosts[0].lastEnv).toContainEqual(['ROLLOUT_INDEX', '1'])
  })

  it('takes the program of a command only where plain shell words name it', () => {
    expect(programOf('curl -fsS http://x/')).toBe('curl')
    expect(programOf('A=1 B=2 /opt/app/bin/check')).toBe('/opt/app/bin/check')
    expect(programOf('"$APP_HOME/check"')).toBeUndefined()
    expect(programOf('(cd /srv && ./check)')).toBeUndefined()
  })
})

describe('the GET scripts, run by a real sh against a local server', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer((request, response) => {
      response.writeHead(request.url === '/down' ? 503 : 200, { 'content-type': 'text/plain' })
      response.end(`agent=${request.headers['user-agent']}\nsecond line`)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })
  afterAll(() => {
    server.close()
  })

  // Not spawnSync: the server answers from this process's event loop.
  const run = async (script: string) => (await promisify(execFile)('sh', ['-c', script], { timeout: 10_000 })).stdout

  for (const client of ['curl', 'wget'] as const) {
    it(`${client}: the body, then the marker with the status, for a good and a failing answer`, async () => {
      expect(await run(getOnHost(client, `${url}/health`, 2000, 'MARK'))).toBe(
        `agent=rolling-deploy-health-check\nsecond line\nMARK 200\n`
      )
      expect(await run(getOnHost(client, `${url}/down`, 2000, 'MARK'))).toMatch(/\nMARK 503\n$/)
    })
  }
})
