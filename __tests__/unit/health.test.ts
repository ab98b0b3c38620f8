import { describe, expect, it } from '@jest/globals'
import { judgeResponse } from '../../src/rollout/health.js'

const OK = [{ from: 200, to: 299 }]

describe('judgeResponse', () => {
  it('needs a listed status and, if asked, a matching body', () => {
    expect(judgeResponse({ status: 204, body: '' }, OK, undefined).ok).toBe(true)
    expect(judgeResponse({ status: 502, body: '' }, OK, undefined)).toEqual({ ok: false, detail: 'HTTP 502' })
    expect(judgeResponse({ status: 200, body: 'v1' }, OK, /v2/).ok).toBe(false)
    expect(judgeResponse({ status: 200, body: 'app v2 ready' }, OK, /v2/).ok).toBe(true)
  })
})
