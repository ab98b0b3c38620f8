// A scripted HAProxy behind the AdminSocket interface: its servers' state, answering the runtime
// API commands the haproxy adapter sends with HAProxy 2.6's own text (formats copied from a real
// `show servers state` and `show stat`). Time is the FakeClock's: each command takes 5 ms.
import type { AdminSocket } from '../../src/load-balancer/haproxy-socket.js'
import type { FakeClock } from './fakes.js'

export interface FakeServer {
  backend: string
  server: string
  address: string
  admin: 'ready' | 'drain' | 'maint'
  /** UP or DOWN by its health check; `check: false` shows `no check`. */
  up: boolean
  check: boolean
  /** Checks passed since it left maintenance: `UP 1/2` until the first. */
  checkedSinceReady: boolean
  scur: number
}

export function server(backend: string, name: string, address: string, more: Partial<FakeServer> = {}): FakeServer {
  return {
    backend,
    server: name,
    address,
    admin: 'ready',
    up: true,
    check: true,
    checkedSinceReady: true,
    scur: 0,
    ...more
  }
}

export class FakeHaproxy implements AdminSocket {
  readonly sent: string[] = []
  closed = false
  /** Runs before each `show stat` answer: sessions finish, checks pass... */
  onStat: (haproxy: FakeHaproxy) => void = () => undefined
  /** A command's answer instead of HAProxy's (a dead socket throws). */
  override?: (command: string) => string | undefined

  constructor(
    readonly where: string,
    readonly servers: FakeServer[],
    private readonly clock: FakeClock
  ) {}

  find(backend: string, name: string): FakeServer | undefined {
    return this.servers.find((s) => s.backend === backend && s.server === name)
  }

  async send(command: string): Promise<string> {
    this.sent.push(command)
    this.clock.time += 5
    const override = this.override?.(command)
    if (override !== undefined) return override
    if (command === 'show servers state') return this.serversState()
    if (command === 'show stat') {
      this.onStat(this)
      return this.stat()
    }
    const set = /^set server ([^/ ]+)\/(\S+) state (ready|drain|maint)$/.exec(command)
    if (!set) return 'Unknown command. Please enter one of the following commands only :\n  help\n\n'
    const found = this.find(set[1], set[2])
    if (!found) return 'No such server.\n\n'
    const state = set[3] as FakeServer['admin']
    // As HAProxy: drain only adds its flag (a server in maintenance stays there), ready clears both.
    if (state !== 'drain' || found.admin !== 'maint') found.admin = state
    if (state === 'ready') found.checkedSinceReady = !found.check
    return '\n'
  }

  async close(): Promise<void> {
    this.closed = true
  }

  status(s: FakeServer): string {
    if (s.admin === 'maint') return 'MAINT'
    if (s.admin === 'drain') return 'DRAIN'
    if (!s.check) return 'no check'
    if (!s.up) return 'DOWN'
    return s.checkedSinceReady ? 'UP' : 'UP 1/2'
  }

  private serversState(): string {
    const header =
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port'
    const flags = { ready: 0, drain: 8, maint: 1 }
    const rows = this.servers.map(
      (s, i) =>
        `3 ${s.backend} ${i + 1} ${s.server} ${s.address} ${s.up ? 2 : 0} ${flags[s.admin]} 1 1 0 15 3 3 6 0 0 0 - 8080 - 0 0 - - 0`
    )
    return ['1', header, ...rows, '', ''].join('\n')
  }

  private stat(): string {
    const header =
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status'
    const rows = this.servers.map(
      (s) => `${s.backend},${s.server},0,0,${s.scur},3,,12,0,0,,0,,0,0,0,0,${this.status(s)}`
    )
    const backends = [...new Set(this.servers.map((s) => s.backend))].map(
      (b) => `${b},BACKEND,0,0,0,3,,12,0,0,0,0,,0,0,0,0,UP`
    )
    return [header, 'web,FRONTEND,,,0,3,4096,12,0,0,0,0,0,,,,,OPEN', ...rows, ...backends, '', ''].join('\n')
  }
}
