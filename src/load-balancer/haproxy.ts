// load-balancer: haproxy, told directly through its runtime API (the admin socket) on every
// HAProxy in front of the hosts. A host leaves by `drain` (no new requests; those in flight go
// on), is out once HAProxy counts no session on it (then `maint`), and rejoins by `ready`, back
// once HAProxy's own health check reports it UP. Every wait reads what HAProxy shows, so a server
// already in the wanted state is simply found there: no wait for a change that cannot come.
import { errorMessage } from '../errors.js'
import type { HaproxySettings } from '../inputs/settings.js'
import { NEVER_ABORTED, type LbMember, type LoadBalancer, type Rotation } from '../ports.js'
import { pollUntil, PollTimeout } from '../rollout/poll.js'
import { PreflightError } from '../rollout/preflight.js'
import { drainBound } from './drain-bound.js'
import type { LbDeps } from './lb-deps.js'
import {
  checkSetAnswer,
  confirmedUp,
  parseStat,
  serverName,
  servesTraffic,
  setStateCommand,
  statsOf,
  type AdminState,
  type ServerStat
} from './haproxy-api.js'
import { describeSeen, sessions, type Seen } from './haproxy-seen.js'
import { resolveOnRunner, ServerMap, type Resolve } from './haproxy-servers.js'
import { adminSockets, type AdminSocket } from './haproxy-socket.js'

interface Haproxy {
  readonly socket: AdminSocket
  readonly servers: ServerMap
}

type ReadStat = (haproxy: Haproxy, signal: AbortSignal) => Promise<ServerStat[]>

const readStat: ReadStat = async ({ socket }, signal) => parseStat(await socket.send('show stat', signal))

/** For tests: the sockets (instead of those the settings name) and how host names resolve. */
export interface HaproxyOptions {
  readonly sockets?: readonly AdminSocket[]
  readonly resolve?: Resolve
}

export function haproxyBalancer(deps: LbDeps, settings: HaproxySettings, options: HaproxyOptions = {}): LoadBalancer {
  const sockets = options.sockets ?? adminSockets(deps.connector, deps.log, settings)
  const resolve = options.resolve ?? resolveOnRunner
  return new HaproxyBalancer(
    deps,
    sockets.map((socket) => ({ socket, servers: new ServerMap(socket, settings.servers, resolve) }))
  )
}

class HaproxyBalancer implements LoadBalancer {
  readonly kind = 'haproxy'

  constructor(
    private readonly deps: LbDeps,
    private readonly haproxies: readonly Haproxy[]
  ) {}

  async describe(members: readonly LbMember[], signal: AbortSignal): Promise<string[]> {
    // One `show stat` per HAProxy for all the hosts, however many they are.
    const reads = new Map<Haproxy, Promise<ServerStat[]>>()
    const once: ReadStat = (haproxy) => {
      let read = reads.get(haproxy)
      if (read === undefined) reads.set(haproxy, (read = readStat(haproxy, signal)))
      return read
    }
    const looks = await Promise.all(
      members.map((member) =>
        this.look(member, signal, once).then(
          (seen) => ({ seen }),
          (error: unknown) => ({ error: errorMessage(error) })
        )
      )
    )
    const failures = looks.flatMap((look, i) =>
      'error' in look ? [{ target: members[i].host.target, message: look.error }] : []
    )
    if (failures.length > 0) throw new PreflightError(failures)
    return looks.map((look) => ('seen' in look ? describeSeen(look.seen, this.haproxies.length > 1) : ''))
  }

  takeOut(member: LbMember, signal: AbortSignal): Promise<void> {
    return this.tell(member, 'drain', signal)
  }

  /** Until no session is left on any of its servers (bounded by drain-timeout, else offline-wait), then `maint`. */
  async awaitOut(member: LbMember, signal: AbortSignal): Promise<void> {
    const { probeIntervalMs } = this.deps.settings.loadBalancer
    const { bound, timeoutMs } = drainBound(this.deps.settings.loadBalancer)
    let open: string | undefined
    try {
      await pollUntil(
        async () => {
          const seen = await this.look(member, signal)
          const serving = seen.filter(({ stat }) => stat === undefined || servesTraffic(stat.status))
          const busy = seen.filter(({ stat }) => (stat?.scur ?? 0) > 0)
          if (serving.length > 0) {
            open = undefined
            return { ok: false, detail: `still in rotation: ${describeSeen(serving, this.haproxies.length > 1)}` }
          }
          open = sessions(busy)
          return { ok: busy.length === 0, detail: open }
        },
        {
          clock: this.deps.clock,
          timeoutMs,
          intervalMs: probeIntervalMs,
          signal,
          waitingFor: 'HAProxy to drain the host',
          failed: 'HAProxy did not show the host out of rotation'
        }
      )
      this.deps.log.info(`[${member.host.target.entry}] HAProxy: out of rotation, no session left`)
    } catch (error: unknown) {
      // Out of rotation but with requests still in flight: past the bound, it goes on, as drain-timeout says.
      if (!(error instanceof PollTimeout) || open === undefined) throw error
      this.deps.log.warning(
        `${member.host.target.entry}: HAProxy still counts ${open} after ${bound} (${timeoutMs} ms); taking it out anyway`
      )
    }
    await this.tell(member, 'maint', signal)
  }

  putBack(member: LbMember, signal: AbortSignal): Promise<void> {
    return this.tell(member, 'ready', signal)
  }

  /**
   * Until every HAProxy's health check reports each of its servers UP (bounded by online-wait). One
   * that never does is left out for good (`maint`): not let in later by a check that passes once.
   */
  async awaitIn(member: LbMember, signal: AbortSignal): Promise<void> {
    try {
      const detail = await this.untilUp(member, signal)
      this.deps.log.info(`[${member.host.target.entry}] HAProxy: ${detail}`)
    } catch (error: unknown) {
      if (!(error instanceof PollTimeout)) throw error
      const left = await this.tell(member, 'maint', NEVER_ABORTED).then(
        () => 'left out of rotation (state maint)',
        (failed: unknown) => `could not leave it out: ${errorMessage(failed)}`
      )
      throw new Error(`${error.message}; ${left}`)
    }
  }

  private async untilUp(member: LbMember, signal: AbortSignal): Promise<string> {
    const { online, probeIntervalMs } = this.deps.settings.loadBalancer
    const many = this.haproxies.length > 1
    const { detail } = await pollUntil(
      async () => {
        const seen = await this.look(member, signal)
        const waiting = seen.filter(({ stat }) => stat === undefined || !confirmedUp(stat.status))
        return { ok: waiting.length === 0, detail: describeSeen(waiting.length > 0 ? waiting : seen, many) }
      },
      {
        clock: this.deps.clock,
        timeoutMs: online.waitMs,
        intervalMs: probeIntervalMs,
        signal,
        waitingFor: 'HAProxy to report the host UP',
        failed: 'HAProxy did not report the host UP'
      }
    )
    return detail
  }

  async inRotation(member: LbMember): Promise<Rotation> {
    try {
      const seen = await this.look(member, NEVER_ABORTED)
      return seen.every(({ stat }) => stat !== undefined && servesTraffic(stat.status)) ? 'in' : 'out'
    } catch {
      return 'unknown'
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.haproxies.map(({ socket }) => socket.close()))
  }

  /** `state` for each of the member's servers, on every HAProxy. */
  private async tell(member: LbMember, state: AdminState, signal: AbortSignal): Promise<void> {
    await this.onEvery(async ({ socket, servers }) => {
      const refs = await servers.of(member, signal)
      for (const ref of refs) {
        const command = setStateCommand(ref, state)
        checkSetAnswer(command, await socket.send(command, signal))
      }
      this.deps.log.info(
        `[${member.host.target.entry}] HAProxy at ${socket.where}: ${refs.map(serverName).join(', ')} set to ${state}`
      )
    })
  }

  /** The member's servers as every HAProxy shows them now. */
  private async look(member: LbMember, signal: AbortSignal, read = readStat): Promise<Seen[]> {
    const views = await this.onEvery(async (haproxy) => {
      const refs = await haproxy.servers.of(member, signal)
      const stats = statsOf(await read(haproxy, signal), refs)
      return refs.map((ref, i) => ({ where: haproxy.socket.where, ref, stat: stats[i] }))
    })
    return views.flat()
  }

  /** `fn` on every HAProxy at once; once all have finished, throws what failed, naming each HAProxy. */
  private async onEvery<T>(fn: (haproxy: Haproxy) => Promise<T>): Promise<T[]> {
    const results = await Promise.allSettled(this.haproxies.map(fn))
    const failed = results.flatMap((result, i) =>
      result.status === 'rejected'
        ? [`HAProxy at ${this.haproxies[i].socket.where}: ${errorMessage(result.reason)}`]
        : []
    )
    if (failed.length > 0) throw new Error(failed.join('; '))
    return results.map((result) => (result as PromiseFulfilledResult<T>).value)
  }
}
