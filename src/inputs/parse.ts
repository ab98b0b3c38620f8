// Pure parsers for input values, shared by the readers. Each returns the parsed value or throws
// InputError with the expected form; the InputReader attaches the input's name and value and
// collects every problem.

export class InputError extends Error {}

export interface HostTarget {
  /** The `hosts` entry exactly as written; outputs and the report use it. */
  readonly entry: string
  readonly user?: string
  readonly host: string
  readonly port: number
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const DURATION_FORM = 'a number with an optional unit ms, s, m or h (e.g. 8, 8s, 500ms, 1m)'

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim())
  if (!match) throw new InputError(`expected ${DURATION_FORM}`)
  const ms = Number(match[1]) * DURATION_UNITS[match[2] ?? 's']
  if (!Number.isFinite(ms) || ms > 24 * 3_600_000) throw new InputError('expected a duration of at most 24h')
  return Math.round(ms)
}

/** A duration that must not be 0: a timeout or an interval of 0 would never wait or spin. */
export function positiveDuration(value: string): number {
  const ms = parseDuration(value)
  if (ms === 0) throw new InputError('must be more than 0')
  return ms
}

export function parseInteger(text: string, min: number, max: number): number {
  const value = text.trim()
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(`expected a whole number from ${min} to ${max}`)
  }
  return Number(value)
}

export function parseBoolean(text: string): boolean {
  const value = text.trim().toLowerCase()
  if (value === 'true') return true
  if (value === 'false') return false
  throw new InputError('expected true or false')
}

/** Splits a list input: one item per line or comma-separated; blank lines and `#` comments ignored. */
export function splitList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

const HOST_FORM = '[user@]host[:port], with IPv6 in brackets as [::1]:22'
const HOSTNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/
const USERNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/

/** Parses `[user@]host[:port]`; `defaultPort` fills a missing port. */
export function parseHostTarget(entry: string, defaultPort: number): HostTarget {
  const fail = (why: string): never => {
    throw new InputError(`${why}; expected ${HOST_FORM}`)
  }
  const at = entry.lastIndexOf('@')
  const user = at >= 0 ? entry.slice(0, at) : undefined
  if (user !== undefined && !USERNAME.test(user)) fail(`invalid user '${user}'`)
  const rest = at >= 0 ? entry.slice(at + 1) : entry
  let host: string
  let portText: string | undefined
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close < 0) fail('unclosed [')
    host = rest.slice(1, close)
    const after = rest.slice(close + 1)
    if (after !== '' && !after.startsWith(':')) fail(`unexpected '${after}' after ]`)
    portText = after === '' ? undefined : after.slice(1)
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(':')) fail(`'${host}' is not an IPv6 address`)
  } else {
    const parts = rest.split(':')
    if (parts.length > 2) fail('IPv6 addresses need brackets')
    host = parts[0]
    portText = parts[1]
    if (!HOSTNAME.test(host)) fail(host === '' ? 'missing host' : `invalid host name '${host}'`)
  }
  let port = defaultPort
  if (portText !== undefined) {
    if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      fail(`invalid port '${portText}' (1-65535)`)
    }
    port = Number(portText)
  }
  return { entry, user, host, port }
}

export interface StatusRange {
  readonly from: number
  readonly to: number
}

export function parseStatusRanges(text: string): StatusRange[] {
  const form = 'HTTP status codes and ranges from 100 to 599, e.g. 200 or 200,204 or 200-299'
  const items = splitList(text)
  if (items.length === 0) throw new InputError(`expected ${form}`)
  return items.map((item) => {
    const match = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(item)
    const from = Number(match?.[1])
    const to = Number(match?.[2] ?? match?.[1])
    if (!match || from < 100 || to > 599 || from > to) throw new InputError(`'${item}' is not valid; expected ${form}`)
    return { from, to }
  })
}

/** One step of `batch-size`: a host count or a percentage of all hosts (Ansible `serial`). */
export type BatchStep = { readonly count: number } | { readonly percent: number }

export function parseBatchSize(text: string): BatchStep[] {
  const form = 'N, N% (1-100%) or a ramp like 1,25%,100%'
  const items = splitList(text)
  if (items.length === 0) throw new InputError(`expected ${form}`)
  return items.map((item) => {
    const match = /^(\d+)(%?)$/.exec(item)
    const n = Number(match?.[1])
    if (!match || n < 1 || (match[2] === '%' && n > 100))
      throw new InputError(`'${item}' is not valid; expected ${form}`)
    return match[2] === '%' ? { percent: n } : { count: n }
  })
}

/** `N` hosts or `N%` of all of them (rounded up: a floor never rounds down to fewer hosts). */
export function parseHostCount(text: string, total: number): number {
  const match = /^(\d+)(%?)$/.exec(text.trim())
  const n = Number(match?.[1])
  if (!match || (match[2] === '%' && n > 100)) throw new InputError('expected N hosts or N% of all hosts (0-100%)')
  return match[2] === '%' ? Math.ceil((total * n) / 100) : n
}

/** One duration, or a list of them (comma-separated or one per line). */
export function parseDurationList(text: string): number[] {
  const items = splitList(text)
  if (items.length === 0) throw new InputError('expected a duration or a list of durations, e.g. 60s or 60s,10s')
  return items.map((item) => {
    try {
      return parseDuration(item)
    } catch (error: unknown) {
      if (error instanceof InputError) throw new InputError(`'${item}': ${error.message}`)
      throw error
    }
  })
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * `KEY=value` lines; the value is everything after the first `=`, kept verbatim. A problem names
 * the line by its number and never shows a value (env holds secrets), nor a line without `=`.
 */
export function parseEnv(text: string): [string, string][] {
  const pairs: [string, string][] = []
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq < 0)
      throw new InputError(`line ${i + 1} has no '=' (not shown: it may hold a secret); expected KEY=value lines`)
    const name = line.slice(0, eq).trim()
    if (!ENV_NAME.test(name)) {
      throw new InputError(
        `line ${i + 1}: '${name}' is not valid; expected KEY=value lines with KEY a shell variable name`
      )
    }
    if (name.startsWith('ROLLOUT_'))
      throw new InputError(`line ${i + 1}: '${name}' is reserved: ROLLOUT_* variables are set by the action`)
    pairs.push([name, line.slice(eq + 1)])
  }
  return pairs
}

export function parseRegex(text: string): RegExp {
  try {
    return new RegExp(text)
  } catch (error: unknown) {
    throw new InputError(`expected a JavaScript regular expression (${(error as Error).message})`)
  }
}

/** Replaces `${NAME}` with its value; a name without a value is an error, never an empty string. */
export function expandVariables(template: string, values: ReadonlyMap<string, string>): string {
  return template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
    const value = values.get(name)
    if (value === undefined)
      throw new InputError(`\${${name}} is not a known variable; expected one of ${[...values.keys()].join(', ')}`)
    return value
  })
}

export function parseHttpUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw new InputError(
      'expected an absolute http:// or https:// URL, as seen from the host, e.g. http://127.0.0.1:8080/health'
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError('expected an http:// or https:// URL')
  if (url.username || url.password) throw new InputError('credentials in the URL are not supported; use health-command')
  return url
}
