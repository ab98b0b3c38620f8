// The job summary as a terminal shows it: headings, aligned tables, <details> unfolded, a host's
// output (<pre>) as it came, HTML entities decoded; the Mermaid Gantt chart becomes a bar per host
// on a shared time axis.
// Rendered from the summary's markdown, so the command line and `npm run demo` show what the job
// summary says, from one renderer.

const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' }
const decode = (text: string) => text.replace(/&(lt|gt|quot|#39|amp);/g, (entity) => ENTITIES[entity])
// Emoji are two columns wide in a terminal; count them so the table columns line up.
const width = (text: string) =>
  [...text].reduce((sum, char) => sum + (/\p{Extended_Pictographic}/u.test(char) ? 2 : 1), 0) -
  (text.match(/\uFE0F/g)?.length ?? 0)

function renderTable(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => width(row[column] ?? ''))))
  return rows.map((row) =>
    row
      .map((cell, column) => cell + ' '.repeat(widths[column] - width(cell)))
      .join('  ')
      .trimEnd()
  )
}

/** Each section's span (first task start to last task end) as a bar; failed tasks in red. */
function renderGantt(lines: string[], columns = 60): string[] {
  const hosts: { name: string; tasks: { start: number; end: number; failed: boolean }[] }[] = []
  for (const line of lines) {
    const section = /^\s*section (.+)$/.exec(line)
    const task = /^\s*\S+ :(crit, |active, )?(\d+), (\d+)$/.exec(line)
    if (section) hosts.push({ name: section[1], tasks: [] })
    else if (task && hosts.length > 0)
      hosts[hosts.length - 1].tasks.push({ start: Number(task[2]), end: Number(task[3]), failed: task[1] === 'crit, ' })
  }
  const end = Math.max(1, ...hosts.flatMap((host) => host.tasks.map((task) => task.end)))
  const column = (ms: number) => Math.round((ms / end) * columns)
  const nameWidth = Math.max(...hosts.map((host) => host.name.length))
  return [
    `Timeline (0 to ${end} ms):`,
    ...hosts.map((host) => {
      const cells = Array.from({ length: columns }, () => ' ')
      for (const task of host.tasks) {
        for (let i = column(task.start); i < Math.max(column(task.end), column(task.start) + 1) && i < columns; i++) {
          cells[i] = task.failed ? '\x1b[31m█\x1b[0m' : '█'
        }
      }
      return `${host.name.padEnd(nameWidth)} |${cells.join('')}|`
    })
  ]
}

export function summaryForTerminal(markdown: string): string {
  const out: string[] = []
  let table: string[][] = []
  let gantt: string[] | undefined
  let pre = false
  for (const line of markdown.split('\n')) {
    // A host's output (<pre>) is shown as it came, indented: a line of it is never a table or heading.
    if (pre || line.startsWith('<pre>')) {
      if (table.length > 0) out.push(...renderTable(table.splice(0)))
      pre = !line.endsWith('</pre>')
      out.push(`  ${decode(line.replace(/^<pre>|<\/pre>$/g, ''))}`)
      continue
    }
    if (line.startsWith('```mermaid')) {
      gantt = []
      continue
    }
    if (gantt) {
      if (!line.startsWith('```')) gantt.push(line)
      else {
        out.push(...renderGantt(gantt))
        gantt = undefined
      }
      continue
    }
    if (line.startsWith('|')) {
      if (!/^\|[\s|:-]+\|$/.test(line))
        table.push(
          line
            .slice(1, -1)
            .split(/(?<!\\)\|/)
            .map((cell) => decode(cell.trim().replace(/\*\*/g, '').replace(/\\\|/g, '|')))
        )
      continue
    }
    if (table.length > 0) {
      out.push(...renderTable(table))
      table = []
    }
    const text = decode(line.replace(/^#+ /, '').replace(/<\/?(details|summary|pre)>/g, ''))
    out.push(line.startsWith('#') ? `\x1b[1m${text}\x1b[0m` : text)
  }
  if (table.length > 0) out.push(...renderTable(table))
  return out.join('\n').replace(/\n{3,}/g, '\n\n')
}
