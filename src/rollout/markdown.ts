// Markdown for the job summaries (the rollout's and the dry run's): user text HTML-escaped, tables built.

/** Text safe in the summary's HTML: every character HTML gives a meaning escaped. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c
  )
}

/** Text in a Markdown table cell: HTML escaped, and a `|` kept from ending the cell. */
export function tableCell(text: string): string {
  return escapeHtml(text).replace(/\|/g, '\\|')
}

/** A Markdown table's lines, from its headings and its rows of cells already escaped. */
export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`)
  ]
}
