// A dry run's report: the plan, and what preflight found on each host, for the log and the job
// summary, so whoever dispatched it reads what a real run would do before starting one.
import type { Settings } from '../inputs/settings.js'
import type { Log, RemoteHost } from '../ports.js'
import { escapeHtml, markdownTable, tableCell } from './markdown.js'
import { describePlan } from './plan.js'
import type { HostRelease } from './release-history.js'

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
  healthPaths?.forEach((path, i) => log.info(`[${hosts[i].target.entry}] health path: ${path}`))
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

/** The job summary of a dry run. */
export function renderPlanSummary(plan: DryRunPlan): string {
  const head = [
    'Host',
    'Reachable',
    'Host key',
    'Health path',
    `Load balancer (${plan.lbKind})`,
    ...(plan.releaseMode ? ['Current release'] : []),
    ...(plan.lock ? ['Deploy lock'] : [])
  ]
  const rows = plan.hosts.map((host) => [
    tableCell(host.entry),
    '✅',
    tableCell(host.hostKey ?? ''),
    tableCell(host.healthPath ?? ''),
    tableCell(host.lbPlace ?? ''),
    ...(plan.releaseMode ? [host.release === null ? '(none: a first deploy)' : tableCell(host.release ?? '')] : []),
    ...(plan.lock ? [host.lock === undefined ? 'free' : `⚠️ ${tableCell(host.lock)}`] : [])
  ])
  return [
    '## 🔍 Dry run: nothing was changed',
    '',
    `Preflight passed: ${plan.hosts.length} host(s) reachable, each with its host key checked.`,
    '',
    ...markdownTable(head, rows),
    '',
    '### What a run with these inputs would do',
    '',
    `<pre>${escapeHtml(plan.lines.join('\n'))}</pre>`,
    ''
  ].join('\n')
}
