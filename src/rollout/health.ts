// Judging a health check's answer: a listed status and, when health-body is set, a matching body.
import type { StatusRange } from '../inputs/parse.js'
import type { Verdict } from './poll.js'
import type { HttpResponse } from '../ports.js'

export function judgeResponse(
  response: HttpResponse,
  statuses: readonly StatusRange[],
  body: RegExp | undefined
): Verdict {
  const statusOk = statuses.some(({ from, to }) => response.status >= from && response.status <= to)
  if (!statusOk) return { ok: false, detail: `HTTP ${response.status}` }
  if (body && !body.test(response.body)) {
    const excerpt = response.body.slice(0, 80).replace(/\s+/g, ' ')
    return { ok: false, detail: `HTTP ${response.status} but the body did not match ${body} (got '${excerpt}')` }
  }
  return { ok: true, detail: `HTTP ${response.status}` }
}
