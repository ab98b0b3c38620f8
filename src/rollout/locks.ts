// The deploy lock: taken on every host at preflight, before anything changes, so two rollouts (a
// push and a manual dispatch, two repositories, a person with a shell) never work on the same
// hosts at once; given back on every way out the process lives through. It is a lease: the run
// beats on it while it lives, so a lock whose beats stopped (a killed runner) is taken over by
// the next run, and a re-run of the same workflow run takes its earlier attempt's at once.
import { randomBytes } from 'node:crypto'
import { errorMessage } from '../errors.js'
import type { LockSettings } from '../inputs/settings.js'
import type { Clock, Log, RemoteHost } from '../ports.js'
import {
  beatLock,
  clearLockHint,
  inspectLock,
  LOCK_MARKER,
  releaseLock,
  takeLock,
  type Staleness
} from '../ssh/lock-scripts.js'
import { githubRun } from '../variables.js'
import { runToEnd } from './run-on-host.js'
import { connectedFirst, mapBounded } from './preflight.js'
import { BEAT_MS, DEFAULT_STALE_MS, dueForBeat } from './lock-beats.js'

/** How often a held lock is looked at again while lock-wait lasts. */
const POLL_MS = 1000
/** A lock's last beat in words: a negative age is a lease dated ahead (PARKED_LEASE_MS). */
const sinceBeat = (ageS: number) =>
  ageS < 0 ? `its beat dated ${-ageS} s ahead (a big fleet's lease)` : `its last beat ${ageS} s ago`

interface Found {
  readonly state: 'taken' | 'ours' | 'replaced' | 'broken' | 'held' | 'beat' | 'lost'
  readonly ageS: number
  /** Who holds (or held) it, in words: the run's URL, actor and sha. */
  readonly holder: string
}

/** Runs a lock script on a host and reads what it found. */
async function lockScript(host: RemoteHost, script: string, sideline = false): Promise<Found | undefined> {
  const { result, lines } = await runToEnd(host, script, {
    timeoutMs: sideline ? BEAT_MS : 60_000,
    sideline,
    quick: true
  })
  const marker = lines.findIndex((line) => line.startsWith(`${LOCK_MARKER} `))
  if (marker < 0) {
    if (result.code === 0) return undefined
    throw new Error(`the deploy lock script failed (exit ${result.code}): ${lines.at(-1) ?? ''}`)
  }
  const [state, age] = lines[marker].slice(LOCK_MARKER.length + 1).split(' ')
  return {
    state: state as Found['state'],
    ageS: Number(age ?? 0),
    holder: describeHolder(lines.slice(marker + 1).join('\n'))
  }
}

function describeHolder(text: string): string {
  try {
    const holder = JSON.parse(text) as { run?: string; actor?: string; sha?: string; startedAt?: string }
    const who = [
      holder.actor && `actor ${holder.actor}`,
      holder.sha && `sha ${holder.sha.slice(0, 7)}`,
      holder.startedAt && `since ${holder.startedAt}`
    ]
    return `${holder.run ?? 'a run with no URL (not from GitHub Actions)'} (${who.filter(Boolean).join(', ')})`
  } catch {
    return text.trim() === '' ? 'an unknown holder (no holder file)' : `an unknown holder: ${text.trim().slice(0, 200)}`
  }
}

export class DeployLocks {
  /** Only this run knows it: a lock holding it is this run's, on any host. */
  private readonly token = randomBytes(16).toString('hex')
  private readonly taken = new Set<RemoteHost>()
  private beats?: ReturnType<typeof setInterval>
  /** When each host's lock was last taken or beaten, by the clock. */
  private readonly lastBeat = new Map<RemoteHost, number>()
  /** A sweep under way: the next tick waits for it rather than piling up beside it. */
  private sweeping = false
  /** Hosts whose beat failed last time, warned about once until it works again. */
  private readonly missed = new Set<RemoteHost>()

  constructor(
    private readonly hosts: readonly RemoteHost[],
    private readonly lock: LockSettings,
    private readonly clock: Clock,
    private readonly log: Log,
    /** PARKED_LEASE_MS where the fleet does not fit in max-connections; 0 (no lease) where it does. */
    private readonly leaseMs = 0
  ) {}

  private get aheadS(): number {
    return Math.ceil(this.leaseMs / 1000)
  }

  /**
   * Takes the lock on every host, waiting up to lock-wait for another run's; fails (giving back
   * those taken) if one is still held, naming its holder and how to clear a lock a killed run left.
   */
  async take(signal: AbortSignal): Promise<void> {
    const { runUrl, actor, sha, runId, attempt } = githubRun()
    const holder = JSON.stringify({
      run: runUrl,
      actor,
      sha,
      attempt,
      startedAt: new Date().toISOString(),
      token: this.token
    })
    const claim = { holder, token: this.token, runId, attempt, aheadS: this.aheadS }
    const deadline = this.clock.now() + this.lock.waitMs
    let pending = [...this.hosts]
    for (;;) {
      const found = await mapBounded(
        pending,
        (host) => lockScript(host, takeLock(this.lock.path, claim, this.staleness)),
        connectedFirst(pending)
      )
      found.forEach((seen, i) => {
        if (seen?.state !== 'held') this.taken.add(pending[i])
        if (seen?.state !== 'held') this.lastBeat.set(pending[i], this.clock.now())
        this.tellTakenOver(pending[i], seen)
      })
      this.beats ??= setInterval(() => void this.beat(), BEAT_MS).unref()
      const held = pending.map((host, i) => [host, found[i]] as const).filter(([, seen]) => seen?.state === 'held')
      if (held.length === 0) return
      if (this.clock.now() >= deadline || signal.aborted) {
        await this.release()
        const [host, seen] = held[0]
        throw new Error(
          `the deploy lock on ${host.target.entry} is held by ${seen?.holder}, ${sinceBeat(seen?.ageS ?? 0)}; nothing was touched on any host. ` +
            `A run that was killed stops beating: its lock is taken over once the beat is ${this.staleness.staleAfterS} s old (lock-stale-after); ` +
            `or remove it on the host (${clearLockHint(this.lock.path)})` +
            (held.length > 1 ? ` (held on ${held.length} hosts)` : '')
        )
      }
      this.log.info(`Deploy lock held on ${held.map(([host]) => host.target.entry).join(', ')}; waiting (lock-wait)`)
      pending = held.map(([host]) => host)
      await this.clock.sleep(Math.min(POLL_MS, deadline - this.clock.now()), signal)
    }
  }

  /** Beats stop once the lock's age since its last beat passes this (lock-stale-after, or a few missed beats). */
  private get staleness(): Staleness {
    const { staleAfterMs } = this.lock
    if (staleAfterMs === undefined) return { staleAfterS: DEFAULT_STALE_MS / 1000 }
    const staleAfterS = Math.ceil(staleAfterMs / 1000)
    return { staleAfterS, noBeatStaleAfterS: staleAfterS }
  }

  /** A warning naming the run whose lock this one took over. */
  private tellTakenOver(host: RemoteHost, seen: Found | undefined) {
    if (seen?.state === 'broken')
      this.log.warning(
        `${host.target.entry}: took over the deploy lock of a run that stopped beating ${seen.ageS} s ago (it died): ${seen.holder}`,
        'Stale lock taken over'
      )
    if (seen?.state === 'replaced')
      this.log.warning(
        `${host.target.entry}: took over the deploy lock of an earlier attempt of this workflow run: ${seen.holder}`,
        'Earlier attempt’s lock taken over'
      )
  }

  /**
   * Touches the beat on the locks held that are due (dueForBeat); a host whose beat fails is warned
   * about once, then tried again next time.
   */
  async beat(): Promise<void> {
    if (this.sweeping) return
    this.sweeping = true
    const staleMs = this.lock.staleAfterMs ?? DEFAULT_STALE_MS
    const due = dueForBeat([...this.taken], this.lastBeat, this.clock.now(), staleMs, this.leaseMs)
    const dueParked = new Set(due.filter((host) => host.parked === true))
    // A host due because it was connected, and parked since by a pass over the fleet, waits until
    // it is due as a parked one: its beat would connect it again only to be parked once more.
    const beat = async (host: RemoteHost) =>
      host.parked === true && !dueParked.has(host) ? undefined : this.beatOn(host)
    await mapBounded(due, beat).finally(() => (this.sweeping = false))
  }

  private async beatOn(host: RemoteHost): Promise<void> {
    const seen = await lockScript(host, beatLock(this.lock.path, this.token, this.aheadS), true).catch(() => undefined)
    if (seen?.state === 'beat') {
      this.lastBeat.set(host, this.clock.now())
      return void this.missed.delete(host)
    }
    if (this.missed.has(host) || !this.taken.has(host)) return
    this.missed.add(host)
    this.log.warning(
      seen?.state === 'lost'
        ? `${host.target.entry}: the deploy lock is no longer this run's (another run took it over)`
        : `${host.target.entry}: the deploy lock's heartbeat failed; trying again in ${BEAT_MS / 1000} s`,
      'Lock heartbeat'
    )
  }

  /** Gives back every lock this run took; a failure is a warning (the lock then needs clearing). */
  async release(): Promise<void> {
    clearInterval(this.beats)
    const hosts = [...this.taken]
    this.taken.clear()
    await mapBounded(
      hosts,
      (host) =>
        lockScript(host, releaseLock(this.lock.path, this.token)).catch((error: unknown) =>
          this.log.warning(
            `${host.target.entry}: the deploy lock was not given back (${errorMessage(error)}); ${clearLockHint(this.lock.path)} clears it`,
            'Lock left'
          )
        ),
      connectedFirst(hosts)
    )
  }

  /** A dry run's look, taking nothing: per host, who holds its lock (undefined: free); a warning for each held. */
  async report(): Promise<(string | undefined)[]> {
    const found = await mapBounded(
      this.hosts,
      (host) => lockScript(host, inspectLock(this.lock.path)),
      connectedFirst(this.hosts)
    )
    return found.map((seen, i) => {
      if (!seen) return undefined
      const held = `held by ${seen.holder}, ${seen.ageS < 0 ? sinceBeat(seen.ageS) : `for ${seen.ageS} s`}`
      this.log.warning(`${this.hosts[i].target.entry}: the deploy lock is ${held}`, 'Lock held')
      return held
    })
  }
}
