// The ELBv2 stand-in's listener: the load balancer users reach. It sends each request to the next
// healthy target of its target group (round robin), as an ALB does; a draining target gets no new
// request but finishes those it has. Errors are an ALB's: 502 when a target fails the request,
// 503 when no target is healthy. Traffic in the tests goes through here, so an error a user would
// see is counted whatever the rollout believes.
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TargetGroupModel } from './elbv2-model.js'

export interface StandInListener {
  readonly port: number
  /** Requests answered, by target (`id:port`). */
  readonly served: Record<string, number>
  close(): Promise<void>
}

export async function startListener(
  group: TargetGroupModel,
  addressOf: (id: string) => string = (id) => id
): Promise<StandInListener> {
  const served: Record<string, number> = {}
  let next = 0
  const server = createServer((request, response) => {
    const healthy = [...group.targets.values()].filter((registration) => registration.state === 'healthy')
    if (healthy.length === 0) {
      response.writeHead(503, { 'content-type': 'text/plain' }).end('503 Service Temporarily Unavailable\n')
      return
    }
    const target = healthy[next++ % healthy.length]
    const key = `${target.id}:${target.port}`
    // A connection per request: no pooled socket outlives a target's restart.
    const upstream = httpRequest(
      { host: addressOf(target.id), port: target.port, path: request.url, method: request.method, agent: false },
      (answer) => {
        served[key] = (served[key] ?? 0) + 1
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      }
    )
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' })
      response.end('502 Bad Gateway\n')
    })
    request.pipe(upstream)
  })
  server.keepAliveTimeout = 10_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    served,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
