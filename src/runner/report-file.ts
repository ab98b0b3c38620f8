// Where the full report goes as a file: the runner's temporary directory (RUNNER_TEMP, emptied after
// each job, so no report outlives its job there), or the system's for the command line. A directory
// of its own per run: two steps of one job, or two runs on one machine, never share a file.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function saveReportFile(json: string, root = process.env.RUNNER_TEMP || tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(root, 'rolling-deploy-'))
  const path = join(dir, 'report.json')
  await writeFile(path, `${json}\n`, { mode: 0o600 })
  return path
}
