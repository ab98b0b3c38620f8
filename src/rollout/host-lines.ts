// One line per host in the log while a fleet is small; past PER_HOST_LINES hosts, the hosts whose
// lines say the same as one line with their count, so 500 hosts in rotation read as one line and a
// host that differs still stands out with its own.
import { shortList } from './summary-limits.js'

/** Hosts logged one line each up to this many. */
export const PER_HOST_LINES = 20

/** `entry: text` per host, or past PER_HOST_LINES, `N host(s): text (entries)` per distinct text. */
export function hostLines(entries: readonly string[], texts: readonly string[], separator = ': '): string {
  if (entries.length <= PER_HOST_LINES) return entries.map((entry, i) => `${entry}${separator}${texts[i]}`).join('\n')
  const alike = new Map<string, string[]>()
  texts.forEach((text, i) => {
    const group = alike.get(text)
    if (group) group.push(entries[i])
    else alike.set(text, [entries[i]])
  })
  return [...alike]
    .map(([text, group]) =>
      group.length === 1
        ? `${group[0]}${separator}${text}`
        : `${group.length} host(s)${separator}${text} (${shortList(group)})`
    )
    .join('\n')
}
