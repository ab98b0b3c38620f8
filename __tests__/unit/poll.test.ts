import { describe, expect, it } from '@jest/globals'
import { pollUntil, PollTimeout, type Verdict } from '../../src/rollout/poll.js'
import { FakeClock } from '../../test/fakes/fakes.js'

const WORDS = { waitingFor: 'the health check', failed: 'not healthy' }

describe('pollUntil', () => {
  const poll = (clock: FakeClock, verdicts: Verdict[], timeoutMs: number, signal = new AbortController().signal) => {
    const budgets: number[] = []
    const attempt = async (budget: number) => {
      budgets.push(budget)
      clock.time += 100
      return verdicts.shift() ?? { ok: false, detail: 'HTTP 503' }
    }
    return { budgets, done: pollUntil(attempt, { clock, timeoutMs, intervalMs: 1000, signal, ...WORDS }) }
  }

  it('polls once per interval until healthy', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    const { budgets, done } = poll(
      clock,
      [
        { ok: false, detail: 'x' },
        { ok: false, detail: 'x' },
        { ok: true, detail: 'HTTP 200' }
      ],
      10_000
    )
    await expect(done).resolves.toEqual({ ok: true, detail: 'HTTP 200' })
    expect(budgets).toEqual([10_000, 9000, 8000])
    expect(clock.now() - start).toBe(2100)
  })

  it('gives up at the deadline with the last thing seen', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    const { budgets, done } = poll(clock, [], 3500)
    await expect(done).rejects.toThrow(new PollTimeout('not healthy after 3500 ms: HTTP 503'))
    expect(budgets).toHaveLength(4)
    expect(clock.now() - start).toBe(3500)
  })

  it('reports the last answer, not an attempt the deadline cut short', async () => {
    const clock = new FakeClock()
    const attempt = async (budget: number): Promise<Verdict> => {
      if (budget > 1000) {
        clock.time += 100
        return { ok: false, detail: 'HTTP 503' }
      }
      clock.time += budget
      throw new Error(`no answer within ${budget} ms`)
    }
    await expect(
      pollUntil(attempt, { clock, timeoutMs: 1500, intervalMs: 1000, signal: new AbortController().signal, ...WORDS })
    ).rejects.toThrow(new PollTimeout('not healthy after 1500 ms: HTTP 503'))
    // ...while a first attempt that ran out of time is all there is to say.
    await expect(
      pollUntil(attempt, { clock, timeoutMs: 500, intervalMs: 1000, signal: new AbortController().signal, ...WORDS })
    ).rejects.toThrow(new PollTimeout('not healthy after 500 ms: no answer within 500 ms'))
  })

  it('treats a thrown attempt as unhealthy and stops when cancelled', async () => {
    const clock = new FakeClock()
    const controller = new AbortController()
    let calls = 0
    const attempt = async (): Promise<Verdict> => {
      if (++calls === 2) controller.abort()
      throw new Error('connect ECONNREFUSED')
    }
    await expect(
      pollUntil(attempt, { clock, timeoutMs: 60_000, intervalMs: 1000, signal: controller.signal, ...WORDS })
    ).rejects.toThrow('cancelled while waiting for the health check')
    expect(calls).toBe(2)
  })
})
