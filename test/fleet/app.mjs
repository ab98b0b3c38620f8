// The application on a test host: answers every request with its release version, read once at
// start from RELEASE_DIR/VERSION, like a process that must be restarted to pick up a release.
// Usage: node app.mjs <bind-address> <port> <release-dir> [--healthy-after-ms N] [--never-healthy]
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'

const [address, port, releaseDir, ...flags] = process.argv.slice(2)
const version = readFileSync(`${releaseDir}/VERSION`, 'utf8').trim()
const flag = (name) => flags.includes(name)
const healthyAfterMs = flag('--healthy-after-ms') ? Number(flags[flags.indexOf('--healthy-after-ms') + 1]) : 0
const started = Date.now()

const server = createServer((request, response) => {
  const healthy = !flag('--never-healthy') && Date.now() - started >= healthyAfterMs
  if (request.url === '/health' && !healthy) {
    response.writeHead(503, { 'content-type': 'text/plain' }).end(`starting version=${version}\n`)
    return
  }
  response.writeHead(200, { 'content-type': 'text/plain' }).end(`version=${version}\n`)
})
server.keepAliveTimeout = 5000
server.listen(Number(port), address)
// Stop gracefully on SIGTERM: finish in-flight requests, then exit.
process.on('SIGTERM', () => server.close(() => process.exit(0)))
