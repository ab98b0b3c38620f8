// What keeps the job summaries bounded whatever the fleet's size: lists of host names cut to a few,
// and batches merged into ranges once a row or a gantt section per batch would be too many.
import { escapeHtml } from './markdown.js'

/** Up to this many hosts a summary has a row (and a gantt section) per host; past it, per batch. */
export const HOST_TABLE_LIMIT = 50
/** Names listed in a line before the rest are counted. */
export const NAMES_LIMIT = 10
/** Names listed in a collapsed list (a <details>) before the rest are counted. */
export const COLLAPSED_NAMES_LIMIT = 50
/** A row (or a gantt section) per batch up to this many batches; past it, per range of batches. */
export const BATCH_ROW_LIMIT = 100

/** `web-001, web-002, … (and 480 more)`: the first `limit` names and a count of the rest. */
export function shortList(names: readonly string[], limit = NAMES_LIMIT): string {
  const shown = names.slice(0, limit).join(', ')
  return names.length > limit ? `${shown}, … (and ${names.length - limit} more)` : shown
}

/** shortList, escaped for the summary's HTML. */
export const namesList = (names: readonly string[], limit = NAMES_LIMIT) => escapeHtml(shortList(names, limit))

/** A log group's title for a batch: its hosts, and past NAMES_LIMIT their count first. */
export const batchTitle = (names: readonly string[]) =>
  (names.length > NAMES_LIMIT ? `${names.length} host(s): ` : '') + shortList(names)

/** Batches 1..count as at most BATCH_ROW_LIMIT ranges [from, to] of consecutive batches. */
export function batchRanges(count: number): [number, number][] {
  const per = Math.max(1, Math.ceil(count / BATCH_ROW_LIMIT))
  return Array.from({ length: Math.ceil(count / per) }, (_, i): [number, number] => [
    i * per + 1,
    Math.min(count, (i + 1) * per)
  ])
}

export const rangeLabel = (from: number, to: number) => (from === to ? `${from}` : `${from}–${to}`)
