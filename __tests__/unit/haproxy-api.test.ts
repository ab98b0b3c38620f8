// HAProxy's runtime API as text (parsing real answers, building commands from checked names), the
// haproxy-* inputs, and the transports: a real unix and TCP socket on the runner, and an LB host
// through sshd's forwarding or, where sshd refuses it, socat there.
import { createServer, type Server } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import {
  checkSetAnswer,
  confirmedUp,
  parseServerRef,
  parseServersState,
  parseStat,
  servesTraffic,
  setStateCommand
} from '../../src/load-balancer/haproxy-api.js'
import { hostSocket, runnerSocket } from '../../src/load-balancer/haproxy-socket.js'
import { NEVER_ABORTED, type SocketAnswer } from '../../src/ports.js'
import { FakeClock, FakeHost, fakeConnector, RecordingLog, settingsWith } from '../../test/fakes/fakes.js'

// Copied from HAProxy 2.6.12 (show stat cut after `weight`; the real lines go on to ~100 columns).
const SERVERS_STATE = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 app 1 s1 127.0.0.1 2 8 1 1 0 15 3 3 6 0 0 0 - 18081 - 0 0 - - 0
3 app 2 s2 127.0.0.1 2 0 1 1 1 1 0 2 0 0 0 0 - 18082 - 0 0 - - 0
4 other 1 s1b 10.1.2.3 2 0 1 1 1 1 0 2 6 0 0 0 web9.example 18081 - 0 0 - - 0

`
const STAT = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight
web,FRONTEND,,,0,0,9985,0,0,0,0,0,0,,,,,OPEN,
app,s1,0,0,2,3,,0,0,0,,0,,0,0,0,0,DRAIN,1
app,s2,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1
app,BACKEND,0,0,2,3,,0,0,0,0,0,,0,0,0,0,UP,2
other,s1b,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/3,1

`

describe('the runtime API as text', () => {
  it("reads show servers state by its header's names", () => {
    expect(parseServersState(SERVERS_STATE)).toEqual([
      { backend: 'app', server: 's1', address: '127.0.0.1', fqdn: '-' },
      { backend: 'app', server: 's2', address: '127.0.0.1', fqdn: '-' },
      { backend: 'other', server: 's1b', address: '10.1.2.3', fqdn: 'web9.example' }
    ])
  })

  it("reads show stat's servers, not the FRONTEND and BACKEND lines", () => {
    expect(parseStat(STAT)).toEqual([
      { backend: 'app', server: 's1', scur: 2, status: 'DRAIN' },
      { backend: 'app', server: 's2', scur: 0, status: 'no check' },
      { backend: 'other', server: 's1b', scur: 0, status: 'UP 1/3' }
    ])
  })

  it("throws HAProxy's own words where an answer is no table", () => {
    expect(() => parseStat('Permission denied\n')).toThrow(
      'HAProxy did not answer `show stat` with a table: Permission denied'
    )
    expect(() => parseServersState('')).toThrow('with a table: (nothing)')
    expect(() => parseStat('# pxname,svname\n')).toThrow("HAProxy's `show stat` has no column scur")
  })

  it('builds set server from checked names only', () => {
    expect(setStateCommand({ backend: 'app', server: 'web-1.a:b_c' }, 'drain')).toBe(
      'set server app/web-1.a:b_c state drain'
    )
    for (const server of ['web 1', 'web1;shutdown sessions', 'web1\nshow env', '', 'a/b'])
      expect(() => setStateCommand({ backend: 'app', server }, 'maint')).toThrow(
        /is not a server; expected backend\/server/
      )
    expect(parseServerRef(' app/web1 ')).toEqual({ backend: 'app', server: 'web1' })
    expect([parseServerRef('app'), parseServerRef('app/web1/x'), parseServerRef('/web1')]).toEqual([
      undefined,
      undefined,
      undefined
    ])
  })

  it('a set command works when HAProxy answers nothing, and fails with what it says otherwise', () => {
    expect(() => checkSetAnswer('set server app/s1 state ready', '\n')).not.toThrow()
    expect(() => checkSetAnswer('set server app/x state ready', 'No such server.\n\n')).toThrow(
      'HAProxy refused `set server app/x state ready`: No such server.'
    )
  })

  it('tells serving from out, and UP for good from UP until the next check', () => {
    const statuses = ['UP', 'UP 1/2', 'no check', 'DOWN', 'DOWN 1/2', 'DRAIN', 'MAINT', 'MAINT (via app/x)', 'NOLB']
    expect(statuses.filter(servesTraffic)).toEqual(['UP', 'UP 1/2', 'no check'])
    expect(statuses.filter(confirmedUp)).toEqual(['UP', 'no check'])
  })
})

describe('haproxy inputs', () => {
  const haproxy = (inputs: Record<string, string>) =>
    settingsWith({ 'load-balancer': 'haproxy', 'health-file': '', ...inputs }).loadBalancer

  it('reads LB hosts, the socket (default /run/haproxy/admin.sock) and each entry’s servers', () => {
    const settings = haproxy({
      'haproxy-hosts': 'lb@10.0.0.8, 10.0.0.9:2222',
      username: 'ops',
      'haproxy-servers': 'deploy@h1=app/web1\n# a comment\ndeploy@h1 = api/web1\ndeploy@h2=app/web2'
    })
    expect(settings.haproxy?.hosts.map(({ user, host, port }) => `${user}@${host}:${port}`)).toEqual([
      'lb@10.0.0.8:22',
      'ops@10.0.0.9:2222'
    ])
    expect(settings.haproxy?.socket).toBe('/run/haproxy/admin.sock')
    expect(settings.haproxy?.servers).toEqual(
      new Map([
        [
          'deploy@h1',
          [
            { backend: 'app', server: 'web1' },
            { backend: 'api', server: 'web1' }
          ]
        ],
        ['deploy@h2', [{ backend: 'app', server: 'web2' }]]
      ])
    )
  })

  it('takes tcp://ADDRESS:PORT without haproxy-hosts, and drain-timeout without drain-port', () => {
    const settings = haproxy({ 'haproxy-socket': 'tcp://[::1]:9999', 'drain-timeout': '20s' })
    expect(settings.haproxy).toMatchObject({ hosts: [], socket: 'tcp://[::1]:9999' })
    expect(settings.drain).toEqual({ timeoutMs: 20_000 })
  })
})

describe('the admin socket on the runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'haproxy-socket-'))
  const servers: Server[] = []
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
    rmSync(dir, { recursive: true, force: true })
  })
  /** Answers each request's line as HAProxy does outside interactive mode: once, then closes. */
  const listen = (where: string | number) =>
    new Promise<string>((resolve) => {
      const server = createServer((connection) => {
        let request = ''
        connection.on('data', (chunk: Buffer) => {
          request += chunk.toString()
          if (request.endsWith('\n')) connection.end(`you said: ${request}`)
        })
      })
      servers.push(server)
      server.listen(where as string, () => {
        const address = server.address()
        resolve(typeof address === 'string' ? address : `tcp://127.0.0.1:${address?.port}`)
      })
    })

  it('asks a unix socket and a TCP address, one command per connection', async () => {
    for (const where of [await listen(join(dir, 'admin.sock')), await listen(0)])
      expect(await runnerSocket(where).send('show stat', NEVER_ABORTED)).toBe('you said: show stat\n')
  })

  it('says which socket it could not reach', async () => {
    await expect(runnerSocket(join(dir, 'none.sock')).send('show stat', NEVER_ABORTED)).rejects.toThrow(
      new RegExp(`^cannot connect to ${dir}/none.sock: connect ENOENT`)
    )
  })
})

describe('the admin socket on an LB host', () => {
  const clock = new FakeClock()
  const target = { entry: 'lb@10.0.0.8', user: 'lb', host: '10.0.0.8', port: 22 }

  it('asks through sshd, connecting once, and closes that connection', async () => {
    const asked: string[] = []
    const host = Object.assign(new FakeHost(target, clock), {
      askSocket: async (path: string, request: string): Promise<SocketAnswer> => {
        asked.push(`${path} ${request}`)
        return { answer: 'ok\n' }
      }
    })
    const connector = fakeConnector([host])
    const socket = hostSocket(connector, new RecordingLog(), target, '/run/haproxy/admin.sock')
    expect(await socket.send('show stat', NEVER_ABORTED)).toBe('ok\n')
    expect(await socket.send('show servers state', NEVER_ABORTED)).toBe('ok\n')
    expect(asked).toEqual(['/run/haproxy/admin.sock show stat\n', '/run/haproxy/admin.sock show servers state\n'])
    expect(connector.connected).toEqual(['lb@10.0.0.8'])
    await socket.close()
    expect(host.closed).toBe(true)
  })

  it('where sshd does not open the socket, asks with socat on the host (the command as data), from then on', async () => {
    let asked = 0
    const host = Object.assign(new FakeHost(target, clock, () => ({ lines: ['# pxname,svname', 'app,web1'] })), {
      askSocket: async (): Promise<SocketAnswer> => {
        asked++
        return { refused: 'open failed' }
      }
    })
    const log = new RecordingLog()
    const socket = hostSocket(fakeConnector([host]), log, target, '/run/haproxy/admin.sock')
    expect(await socket.send('show stat', NEVER_ABORTED)).toBe('# pxname,svname\napp,web1')
    expect(host.commands[0]).toContain(
      `printf '%s' 'show stat\n' | socat -t 5 - UNIX-CONNECT:'/run/haproxy/admin.sock'`
    )
    expect(log.lines).toEqual([
      '[lb@10.0.0.8] sshd did not open /run/haproxy/admin.sock (open failed); socat on the host did: asking HAProxy with socat there'
    ])
    host.reply = () => ({ code: 127, lines: ['socat not found on the host'] })
    await expect(socket.send('show stat', NEVER_ABORTED)).rejects.toThrow(
      'socat on lb@10.0.0.8 could not ask /run/haproxy/admin.sock: socat not found on the host'
    )
    expect(asked).toBe(1)
  })

  it('where neither sshd nor socat opens it, says both, and asks sshd again next time', async () => {
    let asked = 0
    const host = Object.assign(
      new FakeHost(target, clock, () => ({ code: 1, lines: ['socat[9] E connect(5): No such file or directory'] })),
      {
        askSocket: async (): Promise<SocketAnswer> => {
          asked++
          return { refused: 'open failed' }
        }
      }
    )
    const socket = hostSocket(fakeConnector([host]), new RecordingLog(), target, '/run/haproxy/admin.sock')
    const both =
      "sshd did not open /run/haproxy/admin.sock (open failed: AllowStreamLocalForwarding no, or the socket missing or not the login user's), nor could socat: socat on lb@10.0.0.8 could not ask /run/haproxy/admin.sock: socat[9] E connect(5): No such file or directory"
    await expect(socket.send('show stat', NEVER_ABORTED)).rejects.toThrow(both)
    await expect(socket.send('show stat', NEVER_ABORTED)).rejects.toThrow(both)
    expect(asked).toBe(2)
  })
})
