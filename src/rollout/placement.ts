// Where each host goes in the rollout: batch-size's steps sized into batches (Ansible `serial`
// semantics), the hosts placed in them in `hosts` order, and each host's place (its batch and
// position), which its ROLLOUT_* variables say. The inputs check min-in-rotation and bake-time
// against the same sizes the rollout runs.
import type { Settings, Target } from '../inputs/settings.js'
import type { BatchStep } from '../inputs/parse.js'
import type { LbMember, RemoteHost } from '../ports.js'
import { hostVariables, type HostPlace } from '../variables.js'
import type { HostRelease } from './release-history.js'

/**
 * Hosts per batch, with Ansible `serial` semantics: each step sizes one batch, the last step
 * repeats until every host is planned, percentages are of all hosts, at least 1 each.
 */
export function batchSizes(total: number, steps: readonly BatchStep[]): number[] {
  const sizes: number[] = []
  let planned = 0
  for (let i = 0; planned < total; i++) {
    const step = steps[Math.min(i, steps.length - 1)]
    const size = 'count' in step ? step.count : Math.floor((total * step.percent) / 100)
    const clamped = Math.min(Math.max(size, 1), total - planned)
    sizes.push(clamped)
    planned += clamped
  }
  return sizes
}

/** `items` cut into batches of batchSizes, in order. */
export function planBatches<T>(items: readonly T[], steps: readonly BatchStep[]): T[][] {
  let start = 0
  return batchSizes(items.length, steps).map((size) => items.slice(start, (start += size)))
}

/** Each target's place (its batch and position), in `hosts` order: its variables before it is connected. */
export function placeTargets(targets: readonly Target[], steps: readonly BatchStep[]): HostPlace[] {
  const numbered = targets.map((target, i) => ({ target, index: i + 1 }))
  return planBatches(numbered, steps).flatMap((batch, b) => batch.map((place) => ({ ...place, batch: b + 1 })))
}

/** A connected host with its place in the rollout (its ROLLOUT_* values) and its release. */
export interface PlacedHost extends HostPlace {
  readonly host: RemoteHost
  /** Release mode: where it is and where it goes. */
  readonly release?: HostRelease
}

/** The hosts (in `hosts` order, `releases` alongside) in their batches, each with its place. */
export function placeHosts(
  hosts: readonly RemoteHost[],
  releases: readonly HostRelease[] | undefined,
  steps: readonly BatchStep[]
): PlacedHost[][] {
  const numbered = hosts.map((host, i) => ({ host, target: host.target, index: i + 1, release: releases?.[i] }))
  return planBatches(numbered, steps).map((batch, b) => batch.map((place) => ({ ...place, batch: b + 1 })))
}

/** Each host with its place, in `hosts` order (not batch order). */
export function placedInOrder(
  hosts: readonly RemoteHost[],
  settings: Settings,
  releases?: readonly HostRelease[]
): PlacedHost[] {
  return placeHosts(hosts, releases, settings.batches.size)
    .flat()
    .sort((a, b) => a.index - b.index)
}

/** Each host as the load balancer port sees it, in `hosts` order: the host and its variables. */
export function lbMembers(
  hosts: readonly RemoteHost[],
  settings: Settings,
  releases?: readonly HostRelease[]
): LbMember[] {
  return placedInOrder(hosts, settings, releases).map((place) => ({
    host: place.host,
    env: hostVariables(settings, place)
  }))
}
