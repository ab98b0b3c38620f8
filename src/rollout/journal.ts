// Host-side truth. Before each step that changes a host, the run records on the host what it is
// about to do (journal-scripts.ts); at preflight the next run reads it, so a host a dead run left
// mid-cycle (a killed runner) is named and cycled again, and measures whether each host is in
// rotation (through the load balancer port), so that no host is called `in` or `unchanged`
// on faith.
import { errorMessage } from '../errors.js'
import type { Settings } from '../inputs/settings.js'
import { type LoadBalancer, type Log, type RemoteHost, type Rotation } from '../ports.js'
import {
  clearJournal,
  groupFile,
  JOURNAL_MARKER,
  journalDir,
  journalFile,
  readJournal,
  writeJournal
} from '../ssh/journal-scripts.js'
import { githubRun } from '../variables.js'
import { awaitGroup } from '../ssh/remote-scripts.js'
import { runToEnd } from './run-on-host.js'
import { connectedFirst, mapBounded } from './preflight.js'
import { lbMembers } from './placement.js'
import type { HostRelease } from './release-history.js'
import { hostLines } from './host-lines.js'

/** What a run records before a step: who, for which release, which step, when. */
export interface JournalEntry {
  readonly run?: string
  readonly runId?: string
  readonly attempt?: number
  readonly release?: string
  readonly step: string
  readonly at: string
  /** Beside the entry, written by the step's command as it started: its process group. */
  readonly group?: LeftGroup
}

/** A step command's process group, and its leader's start time where the host has /proc. */
export interface LeftGroup {
  readonly pgid: number
  readonly start?: string
}

/** A host as the run found it at preflight. */
export interface HostFound {
  /** Whether the load balancer sends the host traffic, as its port measures it. */
  readonly rotation: Rotation
  /** The journal entry a run that never finished left: the host was mid-cycle. */
  readonly left?: JournalEntry
}

/** In words, for the log and the summary: "left by run <url> (attempt 1) during `health` (release r7, at …)". */
export function describeLeft(entry: JournalEntry): string {
  const run = `run ${entry.run ?? entry.runId ?? '(not from GitHub Actions)'}`
  const attempt = entry.attempt === undefined ? '' : ` (attempt ${entry.attempt})`
  const release = entry.release === undefined ? '' : `release ${entry.release}, `
  return `left by ${run}${attempt} during \`${entry.step}\` (${release}at ${entry.at})`
}

/** The journal directory: next to the deploy lock, where the lock would be when it is off. */
function directory(settings: Settings): string {
  const release = settings.release && `${settings.release.dir}/.lock`
  return journalDir(settings.lock ? settings.lock.path : release)
}

/** One host's journal, written by its run: a failed write is a warning (once), never a failed step. */
export class HostJournal {
  private warned = false
  private readonly dir: string
  private readonly file: string

  constructor(
    private readonly host: RemoteHost,
    settings: Settings,
    private readonly log: Log,
    private readonly release?: string
  ) {
    this.dir = directory(settings)
    this.file = journalFile(host.target.entry)
  }

  /** Where the step's command records its process group (ExecOptions.groupFile). */
  get groupFile(): string {
    return groupFile(this.dir, this.file)
  }

  /** Before `step` changes the host. */
  record(step: string): Promise<void> {
    const { runUrl, runId, attempt } = githubRun()
    const entry: JournalEntry = {
      run: runUrl,
      runId,
      attempt,
      release: this.release,
      step,
      at: new Date().toISOString()
    }
    return this.run(writeJournal(this.dir, this.file, JSON.stringify(entry)))
  }

  /** The host's cycle is over, however it ended: this run reports it. */
  clear(): Promise<void> {
    return this.run(clearJournal(this.dir, this.file))
  }

  private async run(script: string): Promise<void> {
    const failure = await runToEnd(this.host, script, { timeoutMs: 30_000, quick: true }).then(
      ({ result, lines }) => (result.code === 0 ? undefined : (lines.at(-1) ?? `exit code ${result.code}`)),
      (error: unknown) => errorMessage(error)
    )
    if (failure === undefined || this.warned) return
    this.warned = true
    this.log.warning(`${this.host.target.entry}: the journal was not written (${failure})`, 'Journal not written')
  }
}

/** A host's journal and what preflight found on it. */
export interface HostState {
  readonly found: HostFound
  readonly journal: HostJournal
}

interface ReadDeps {
  readonly hosts: readonly RemoteHost[]
  readonly settings: Settings
  readonly lb: LoadBalancer
  readonly log: Log
  readonly releases?: readonly HostRelease[]
  /** Each host's journal entry as preflight read it (readLeft); read here when not given. */
  readonly left?: readonly (JournalEntry | undefined)[]
}

/** Every host's journal and rotation, read at preflight (after the lock: no live run writes them); each finding logged. */
export async function readHostStates(deps: ReadDeps): Promise<HostState[]> {
  const { hosts, settings, lb, log, releases } = deps
  const members = lbMembers(hosts, settings, releases)
  const left = deps.left ?? (await readLeft(hosts, settings))
  // A dead run's command still running goes first: it may yet change the host, and its rotation.
  const found = await mapBounded(
    hosts,
    async (host, i) => {
      await awaitLeftCommand(host, left[i], settings, log)
      return { rotation: await lb.inRotation(members[i]), left: left[i] }
    },
    connectedFirst(hosts)
  )
  found.forEach(({ rotation, left }, i) => {
    const entry = hosts[i].target.entry
    if (left) log.warning(`${entry}: ${describeLeft(left)}; it is cycled again`, 'Host left mid-cycle')
    else if (rotation === 'out') log.warning(`${entry}: out of rotation before this run`, 'Host out of rotation')
  })
  log.info(
    hostLines(
      hosts.map((host) => host.target.entry),
      found.map(({ rotation }) => `rotation ${rotation}`)
    )
  )
  return found.map((host, i) => ({
    found: host,
    journal: new HostJournal(hosts[i], settings, log, releases?.[i].to ?? settings.release?.id)
  }))
}

/**
 * Waits for the command a dead run left running on the host (its step's process group, as the
 * command recorded it), or ends it past command-timeout, as that run would have: the cycle that
 * follows must not race it. Said in the log when there was one. A wait whose end is unknown (the
 * connection dropped under it) is tried once more on a new connection; unknown again, it throws:
 * cycling the host beside a command that may still run is what the wait exists to prevent, and
 * nothing has been touched yet, so the next run can try again.
 */
async function awaitLeftCommand(host: RemoteHost, left: JournalEntry | undefined, settings: Settings, log: Log) {
  if (left?.group === undefined) return
  const { timeoutMs } = settings.commands
  const { pgid, start } = left.group
  const what = `${host.target.entry}: the dead run's \`${left.step}\` command was still running (process group ${pgid})`
  let code: number | null = null
  for (let attempt = 1; attempt <= 2 && ![0, 2, 3].includes(code ?? -1); attempt++) {
    if (attempt > 1)
      log.warning(`${what}; whether it ended is unknown (exit ${code}): looking again`, 'Command of a dead run')
    code = (await runToEnd(host, awaitGroup(pgid, timeoutMs, start), { timeoutMs: timeoutMs + 30_000 })).result.code
  }
  if (code === 0) log.info(`${what}; this run waited until it ended`)
  else if (code === 3)
    log.warning(`${what} past command-timeout (${timeoutMs} ms): ended`, 'Command of a dead run ended')
  else if (code !== 2)
    throw new Error(
      `${host.target.entry}: could not learn whether the \`${left.step}\` command a dead run left (process group ${pgid}) has ended (exit ${code}); nothing was changed on any host. Run again once the host answers.`
    )
}

/**
 * Each host's journal entry, where a run that never finished left one: the host was mid-cycle.
 * Read at preflight, before the lock: only a live run could change it, and then the lock is not ours.
 */
export function readLeft(hosts: readonly RemoteHost[], settings: Settings): Promise<(JournalEntry | undefined)[]> {
  return mapBounded(hosts, (host) => readLeftOn(host, settings), connectedFirst(hosts))
}

/** The journal entry a run that never finished left on `host` (readLeft). */
export async function readLeftOn(host: RemoteHost, settings: Settings): Promise<JournalEntry | undefined> {
  const { lines } = await runToEnd(host, readJournal(directory(settings), journalFile(host.target.entry)), {
    timeoutMs: 30_000,
    quick: true
  })
  /** What readJournal printed after `<marker> <kind> `, if it printed that. */
  const marked = (kind: string) => {
    const prefix = `${JOURNAL_MARKER} ${kind} `
    return lines.find((line) => line.startsWith(prefix))?.slice(prefix.length)
  }
  const entry = parseEntry(marked('entry'))
  const group = parseGroup(marked('group'))
  return entry && group ? { ...entry, group } : entry
}

/** `PGID START` as the command wrote it; anything else is no group. */
function parseGroup(text: string | undefined): LeftGroup | undefined {
  const [pgid, start] = (text ?? '').trim().split(/\s+/)
  if (!/^[1-9]\d*$/.test(pgid ?? '')) return undefined
  return /^\d+$/.test(start ?? '') ? { pgid: Number(pgid), start } : { pgid: Number(pgid) }
}

function parseEntry(text: string | undefined): JournalEntry | undefined {
  if (text === undefined) return undefined
  try {
    const entry = JSON.parse(text) as JournalEntry
    return typeof entry.step === 'string' ? entry : undefined
  } catch {
    return { step: 'unknown', at: 'an unknown time' }
  }
}

/** Release mode's preparation, journaled: a host left mid-way shows `prepare` to the next run. */
export async function journaled<T>(states: readonly HostState[] | undefined, step: string, fn: () => Promise<T>) {
  await mapBounded(states ?? [], ({ journal }) => journal.record(step))
  try {
    return await fn()
  } finally {
    await mapBounded(states ?? [], ({ journal }) => journal.clear())
  }
}
