// The application on a test host: answers every request with its release version, read once at
// start from RELEASE_DIR/VERSION, like a process that must be restarted to pick up a release.
// It logs its start and each health check it fails to stdout (app.log).
// Usage: node app.mjs <bind-address> <port> <release-dir> [--healthy-after-ms N] [--never-healthy]
//   [--abrupt-stop]: exit at once on SIGTERM, cutting in-flight requests (as many apps do).
// GET /slow answers after 5 s (/slow?ms=2000: after 2 s): a request still in flight when its host
// is rolled (drain tests).
// [--error-every N]: every Nth page answers 500, /health stays fine: a release the health check
// passes and users would not (the canary tests).
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'

const [address, port, releaseDir, ...flags] = process.argv.slice(2)
const version = readFileSync(`${releaseDir}/VERSION`, 'utf8').trim()
const flag = (name) => flags.includes(name)
const option = (name) => (flag(name) ? Number(flags[flags.indexOf(name) + 1]) : 0)
const healthyAfterMs = option('--healthy-after-ms')
const errorEvery = option('--error-every')
const started = Date.now()
let pages = 0

// Its log (appctl.sh sends stdout to app.log): what diagnose-command reads on a failed host.
const log = (message) => console.log(`${new Date().toISOString()} ${message}`)
log(`started version=${version} on ${address}:${port}`)

const server = createServer((request, response) => {
  const healthy = !flag('--never-healthy') && Date.now() - started >= healthyAfterMs
  if (request.url === '/health' && !healthy) {
    log(flag('--never-healthy') ? 'error: cannot reach the database (--never-healthy)' : 'health: still starting')
    response.writeHead(503, { 'content-type': 'text/plain' }).end(`starting version=${version}\n`)
    return
  }
  if (request.url !== '/health' && errorEvery > 0 && ++pages % errorEvery === 0) {
    response.writeHead(500, { 'content-type': 'text/plain' }).end(`error version=${version}\n`)
    return
  }
  const answer = () => response.writeHead(200, { 'content-type': 'text/plain' }).end(`version=${version}\n`)
  const url = new URL(request.url ?? '/', 'http://app')
  if (url.pathname === '/slow') setTimeout(answer, Number(url.searchParams.get('ms') ?? 5000))
  else answer()
})
server.keepAliveTimeout = 5000
server.listen(Number(port), address)
// Stop gracefully on SIGTERM unless told otherwise: finish in-flight requests, then exit.
process.on('SIGTERM', () => (flag('--abrupt-stop') ? process.exit(0) : server.close(() => process.exit(0))))
