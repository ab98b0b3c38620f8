// A dry run's report: the plan, and what preflight found on each host, for the log and the job
// summary, so whoever dispatched it reads what a real run would do before starting one.
import type { Settings } from '../inputs/settings.js'
import type { Log, RemoteHost } from '../ports.js'
import { escapeHtml, markdownTable, tableCell } from './markdown.js'
import { HOST_TABLE_LIMIT, namesList } from './summary-limits.js'
import { describePlan } from './plan.js'
import type { HostRelease } from './release-history.js'
import { hostLines } from './host-lines.js'

/** What preflight found on one host. */
export interface HostFindings {
  readonly entry: string
  /** The host key it showed and what trusted it. */
  readonly hostKey?: string
  /** Release mode: its current release (null: none yet, a first deploy). */
  readonly release?: string | null
  /** With the lock on: who holds it (undefined: free). */
  readonly lock?: string
  /** How its health is checked, as preflight proved it: an SSH tunnel, curl on the host... */
  readonly healthPath?: string
  /** Its place in the load balancer, as the port read it: `app/web1 UP`, `rotation in`. */
  readonly lbPlace?: string
}

export interface DryRunPlan {
  readonly lines: readonly string[]
  readonly hosts: readonly HostFindings[]
  readonly releaseMode: boolean
  readonly lock: boolean
  /** load-balancer, as chosen. */
  readonly lbKind: string
}

/** The plan and the findings, logged; what the report writes to the summary. */
export function dryRunPlan(
  settings: Settings,
  hosts: readonly RemoteHost[],
  found: {
    readonly releases?: readonly HostRelease[]
    readonly locks?: readonly (string | undefined)[]
    readonly healthPaths?: readonly string[]
    readonly lbPlaces?: readonly string[]
  },
  log: Log
): DryRunPlan {
  const { releases, locks, healthPaths, lbPlaces } = found
  const earlier = releases?.findIndex((plan) => plan.migrated !== undefined) ?? -1
  const migrated = releases?.[earlier]?.migrated
  const lines = describePlan(settings, migrated && `on ${hosts[earlier].target.entry} at ${migrated.at}`)
  log.info(['Dry run: preflight passed; nothing was changed. The plan:', ...lines].join('\n'))
  if (healthPaths)
    log.info(
      hostLines(
        hosts.map((host) => `[${host.target.entry}]`),
        healthPaths.map((path) => `health path: ${path}`),
        ' '
      )
    )
  return {
    lines,
    hosts: hosts.map((host, i) => ({
      entry: host.target.entry,
      hostKey: host.hostKey,
      release: releases ? (releases[i].from ?? null) : undefined,
      lock: locks?.[i],
      healthPath: healthPaths?.[i],
      lbPlace: lbPlaces?.[i]
    })),
    releaseMode: releases !== undefined,
    lbKind: settings.loadBalancer.kind,
    lock: locks !== undefined
  }
}

/** The job summary of a dry run: a row per host up to HOST_TABLE_LIMIT hosts, then per group of hosts found alike. */
export function renderPlanSummary(plan: DryRunPlan): string {
  const many = plan.hosts.length > HOST_TABLE_LIMIT
  const head = [
    many ? 'Hosts' : 'Host',
    ...(many ? [] : ['Reachable']),
    many ? 'Host keys trusted by' : 'Host key',
    'Health path',
    `Load balancer (${plan.lbKind})`,
    ...(plan.releaseMode ? ['Current release'] : []),
    ...(plan.lock ? ['Deploy lock'] : [])
  ]
  const rows = many ? groupRows(plan) : plan.hosts.map((host) => hostRow(plan, host))
  return [
    '## 🔍 Dry run: nothing was changed',
    '',
    `Preflight passed: ${plan.hosts.length} host(s) reachable, each with its host key checked.`,
    '',
    ...markdownTable(head, rows),
    '',
    ...(many ? ['Each host, one by one: the JSON file at the `report-file` output.', ''] : []),
    '### What a run with these inputs would do',
    '',
    `<pre>${escapeHtml(plan.lines.join('\n'))}</pre>`,
    ''
  ].join('\n')
}

function hostRow(plan: DryRunPlan, host: HostFindings): string[] {
  return [
    tableCell(host.entry),
    '✅',
    tableCell(host.hostKey ?? ''),
    tableCell(host.healthPath ?? ''),
    tableCell(host.lbPlace ?? ''),
    ...(plan.releaseMode ? [host.release === null ? '(none: a first deploy)' : tableCell(host.release ?? '')] : []),
    ...(plan.lock ? [host.lock === undefined ? 'free' : `⚠️ ${tableCell(host.lock)}`] : [])
  ]
}

/** `SHA256:… (known_hosts)` → `known_hosts`: what trusted a key is alike across hosts, the key is not. */
const trustedBy = (hostKey = '') => /\(([^)]*)\)$/.exec(hostKey)?.[1] ?? hostKey

/**
 * Hosts found alike (trust, health path, release, lock) as one row each: their count and first
 * names, and a few of their load balancer places (a place names its host, so it groups nothing).
 */
function groupRows(plan: DryRunPlan): string[][] {
  const groups = new Map<string, HostFindings[]>()
  for (const host of plan.hosts) {
    const key = JSON.stringify([trustedBy(host.hostKey), host.healthPath, host.release, host.lock])
    const group = groups.get(key)
    if (group) group.push(host)
    else groups.set(key, [host])
  }
  const all = [...groups.values()]
  const rest = all.slice(HOST_TABLE_LIMIT).flat()
  const more = rest.length > 0 ? [[`${rest.length} more, found ${all.length - HOST_TABLE_LIMIT} other ways`]] : []
  return [...all.slice(0, HOST_TABLE_LIMIT).map((hosts) => groupRow(plan, hosts)), ...more]
}

// namesList escapes HTML; a `|` would still end the cell.
const cellList = (items: readonly string[], limit?: number) => namesList(items, limit).replace(/\|/g, '\\|')

function groupRow(plan: DryRunPlan, hosts: readonly HostFindings[]): string[] {
  const [first] = hosts
  return [
    `${hosts.length}: ${cellList(hosts.map((host) => host.entry))}`,
    tableCell(trustedBy(first.hostKey)),
    tableCell(first.healthPath ?? ''),
    cellList(
      hosts.map((host) => host.lbPlace ?? ''),
      3
    ),
    ...(plan.releaseMode ? [first.release === null ? '(none: a first deploy)' : tableCell(first.release ?? '')] : []),
    ...(plan.lock ? [first.lock === undefined ? 'free' : `⚠️ ${tableCell(first.lock)}`] : [])
  ]
}
