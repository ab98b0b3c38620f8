// One request, one answer, on a stream that the other side closes once it has answered: what
// HAProxy's admin socket does outside its interactive mode. Shared by the socket on the runner
// (node:net) and the one on an LB host (an SSH channel).
import type { Duplex } from 'node:stream'
import type { SocketOptions } from './ports.js'

/** More than any admin answer this action reads (`show stat` of thousands of servers). */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024

/**
 * Opens the stream, writes `request`, ends our side and resolves to all it reads until the other
 * side closes; rejects when `timeoutMs` passes or `signal` aborts first (the stream destroyed).
 */
export function exchange(
  open: () => Promise<Duplex>,
  request: string,
  { timeoutMs, signal }: SocketOptions
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let stream: Duplex | undefined
    let settled = false
    const done = (error?: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', cancelled)
      if (error === undefined) return resolve(Buffer.concat(chunks).toString('utf8'))
      stream?.destroy()
      reject(error)
    }
    const cancelled = () => done(new Error('cancelled'))
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    signal.addEventListener('abort', cancelled, { once: true })
    if (signal.aborted) {
      cancelled()
      return
    }
    open().then(
      (opened) => {
        stream = opened
        if (settled) {
          opened.destroy()
          return
        }
        opened.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          size += chunk.length
          if (size > MAX_ANSWER_BYTES) done(new Error(`answer longer than ${MAX_ANSWER_BYTES} bytes`))
        })
        opened.on('error', (error: Error) => done(error))
        opened.on('close', () => done())
        opened.end(request)
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error)))
    )
  })
}
