// The Log port for a terminal or another CI's log: plain lines, never a `::` workflow command
// (outside GitHub Actions those are noise, and @actions/core's summary is an error there). Secrets
// are replaced before a line is printed, as the runner's masking does for the action.
import type { Log } from '../ports.js'
import { masker } from '../inputs/secrets.js'

const style = (code: string) => (text: string) => `\x1b[${code}m${text}\x1b[0m`
const STYLES = { bold: style('1'), yellow: style('33'), red: style('31'), cyan: style('36') }

export { masker }

/**
 * `print` writes one message (maybe several lines); `color`: ANSI styles for a terminal, none when
 * the output is piped to a file or another tool.
 */
export function terminalLog(print: (text: string) => void, secrets: readonly string[], color: boolean): Log {
  const mask = masker(secrets)
  const paint = (styleName: keyof typeof STYLES, text: string) => (color ? STYLES[styleName](text) : text)
  const annotate = (level: 'notice' | 'warning' | 'error', styleName: keyof typeof STYLES) => {
    return (message: string, title?: string) =>
      print(mask(`${paint(styleName, `${level}:`)} ${title ? `${title}: ` : ''}${message}`))
  }
  return {
    info: (message) => print(mask(message)),
    notice: annotate('notice', 'cyan'),
    warning: annotate('warning', 'yellow'),
    error: annotate('error', 'red'),
    group: (name, fn) => {
      print(mask(paint('bold', `▸ ${name}`)))
      return fn()
    }
  }
}
