// `npm run bench:upload`: a 10,000-file directory uploaded to one real sshd host, the old way
// (node-ssh putDirectory over SFTP, 4 files at a time, as the action did before) against the new
// (one tar stream over an exec channel). Medians of a few rounds; writes bench/upload-results.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeSSH } from 'node-ssh'
import { uploadPath } from '../src/ssh/upload.js'
import { HOST_VIEW, sshRun, startSshFleet } from '../test/fleet/ssh-hosts.js'

const FILES = 10_000
const PER_DIR = 100
const ROUNDS = 3

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** FILES small files (1 KiB), PER_DIR to a directory, a dotfile in each. */
function makeTree(root: string) {
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, `d${Math.floor(i / PER_DIR)}`)
    if (i % PER_DIR === 0) mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, i % PER_DIR === 0 ? `.f${i}` : `f${i}.txt`), 'x'.repeat(1024))
  }
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await run()
  return Math.round(performance.now() - start)
}

async function main() {
  const fleet = await startSshFleet(1)
  const local = mkdtempSync(join(tmpdir(), 'rollout-bench-upload-'))
  const ssh = new NodeSSH()
  try {
    makeTree(local)
    const [host] = fleet.hosts
    await ssh.connect({ host: host.address, port: host.port, username: fleet.user, privateKey: fleet.clientPrivateKey })
    const connection = ssh.connection
    if (!connection) throw new Error('not connected')
    const ways: [string, (to: string) => Promise<unknown>][] = [
      ['node-ssh putDirectory (SFTP)', (to) => ssh.putDirectory(local, to, { recursive: true, concurrency: 4 })],
      ['tar stream', (to) => uploadPath(connection, local, to)]
    ]
    const rounds = ways.map((): number[] => [])
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [, upload]] of ways.entries()) {
        const to = `${HOST_VIEW}/upload-${i}-${round}`
        rounds[i].push(await timed(() => upload(to)))
        const count = sshRun(fleet, host, `find ${to} -type f | wc -l`).trim()
        if (Number(count) !== FILES) console.log(`${ways[i][0]}: ${count} of ${FILES} files arrived`)
        sshRun(fleet, host, `rm -rf ${to}`)
      }
    }
    const results = ways.map(([name], i) => ({ name, medianMs: median(rounds[i]), roundsMs: rounds[i] }))
    console.table(results)
    writeFileSync('bench/upload-results.json', JSON.stringify({ files: FILES, results }, null, 2) + '\n')
  } finally {
    ssh.dispose()
    rmSync(local, { recursive: true, force: true })
    await fleet.close()
  }
}

await main()
