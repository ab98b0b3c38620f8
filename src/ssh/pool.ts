// The run's SSH connections, bounded (max-connections) and paced. A host takes its slots (one per
// hop of its jump-host chain: each hop is an SSH connection of its own) before it connects, keeps
// them while it stays connected, and gives them back once its sockets have closed. When the slots
// run out, the idle host used least recently is parked (its connection closed); its next use
// connects again. A host in use is never parked. New handshakes start at most `maxStarts` at once,
// so a host's or a bastion's sshd (MaxStartups 10:30:100 by default) is never asked for more.
import type { ConnectionCounts } from '../ports.js'

/** One host (or LB host) as the pool sees it. */
export interface PoolMember {
  /** Slots it needs while connected: the hops of its chain. */
  readonly hops: number
  /** Closes its connection; resolves once its sockets have closed. */
  park(): Promise<void>
}

/** sshd's MaxStartups begins refusing past 10 unauthenticated connections. */
export const MAX_STARTS = 10

interface Holding {
  /** Uses under way: while any is, the member is never parked. */
  uses: number
  /** When it was last used, by a counter that only grows. */
  lastUsed: number
  /** Whether it holds its slots. */
  holds: boolean
  /** Its slots being taken, which a second use at the same time awaits. */
  taking?: Promise<void>
}

/** A socket as the counters see it: it says once when it closes. */
interface CountedSocket {
  once(event: 'close', listener: () => void): unknown
}

export class ConnectionPool {
  private readonly members = new Map<PoolMember, Holding>()
  /** Slots held, or being given back by a parked member whose sockets have not closed yet. */
  private taken = 0
  /** Slots that parked members are giving back now. */
  private freeing = 0
  /** Slots that hosts waiting for them need. */
  private wanting = 0
  private wakeWaiters: (() => void)[] = []
  private clock = 0
  private starts = 0
  private readonly startQueue: (() => void)[] = []
  private open = 0
  readonly counts: { -readonly [K in keyof ConnectionCounts]: ConnectionCounts[K] }

  constructor(
    readonly limit: number,
    private readonly maxStarts = MAX_STARTS
  ) {
    this.counts = { limit, peakOpen: 0, opened: 0, handshakeRetries: 0 }
  }

  /** Whether using `member` now would connect it first. */
  parked(member: PoolMember): boolean {
    return !this.members.get(member)?.holds
  }

  /** `use` with `member` held connected-or-connectable: its slots taken first if it holds none. */
  async use<T>(member: PoolMember, use: () => Promise<T>): Promise<T> {
    const holding = this.holding(member)
    holding.uses++
    holding.lastUsed = ++this.clock
    try {
      if (!holding.holds) {
        holding.taking ??= this.take(member, holding).finally(() => (holding.taking = undefined))
        await holding.taking
      }
      return await use()
    } finally {
      holding.uses--
      holding.lastUsed = ++this.clock
      // Idle now: a host waiting for a slot may park it.
      if (holding.uses === 0 && this.wanting > 0) this.wake()
    }
  }

  /** The member is gone for good (closed, or never connected): its slots back once `closed` resolves. */
  async leave(member: PoolMember, closed: Promise<void>): Promise<void> {
    const holding = this.members.get(member)
    this.members.delete(member)
    if (!holding?.holds) return
    holding.holds = false
    await this.giveBack(member.hops, closed)
  }

  private holding(member: PoolMember): Holding {
    let holding = this.members.get(member)
    if (!holding) this.members.set(member, (holding = { uses: 0, lastUsed: 0, holds: false }))
    return holding
  }

  private async take(member: PoolMember, holding: Holding): Promise<void> {
    if (member.hops > this.limit)
      throw new Error(`one host needs ${member.hops} SSH connections (its jump hosts), more than max-connections`)
    this.wanting += member.hops
    try {
      while (this.taken + member.hops > this.limit) {
        // Park only what the slots being given back already will not cover.
        while (this.taken - this.freeing + this.wanting > this.limit && this.parkLeastRecentlyUsed());
        await new Promise<void>((wake) => this.wakeWaiters.push(wake))
      }
    } finally {
      this.wanting -= member.hops
    }
    this.taken += member.hops
    holding.holds = true
  }

  /** Parks the idle member used least recently, if any; it gives its slots back once closed. */
  private parkLeastRecentlyUsed(): boolean {
    let victim: [PoolMember, Holding] | undefined
    for (const entry of this.members)
      if (entry[1].holds && entry[1].uses === 0 && (!victim || entry[1].lastUsed < victim[1].lastUsed)) victim = entry
    if (!victim) return false
    const [member, holding] = victim
    holding.holds = false
    void this.giveBack(member.hops, member.park())
    return true
  }

  private wake(): void {
    const waiters = this.wakeWaiters
    this.wakeWaiters = []
    waiters.forEach((wake) => wake())
  }

  private async giveBack(slots: number, closed: Promise<void>): Promise<void> {
    this.freeing += slots
    await closed.catch(() => undefined)
    this.freeing -= slots
    this.taken -= slots
    this.wake()
  }

  /** A handshake, started once fewer than maxStarts are under way. */
  async handshake<T>(start: () => Promise<T>): Promise<T> {
    while (this.starts >= this.maxStarts) await new Promise<void>((go) => this.startQueue.push(go))
    this.starts++
    try {
      return await start()
    } finally {
      this.starts--
      this.startQueue.shift()?.()
    }
  }

  /** Counts a socket (a hop's TCP socket, or its channel through the hop before) from now until it closes. */
  opened(socket: CountedSocket): void {
    this.open++
    this.counts.opened++
    this.counts.peakOpen = Math.max(this.counts.peakOpen, this.open)
    socket.once('close', () => this.open--)
  }

  /** SSH connections open now. */
  get openNow(): number {
    return this.open
  }
}
