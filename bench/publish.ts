// Where the benchmarks' results go, and how a bench run starts and ends: the full tables in
// docs/benchmark.md and the headline rows in the README (each between its markers), a check that
// the bench runs on the Node the action runs on, and `--render-only` (rewrite the text from the
// results JSON without measuring again).
import { readFileSync, writeFileSync } from 'node:fs'

/** The files the benchmarks write into, from the repository root. */
export const DOCS = 'docs/benchmark.md'
export const README = 'README.md'

/** Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in `file`. */
export function writeSection(file: typeof DOCS | typeof README, name: string, text: string): void {
  const path = new URL(`../${file}`, import.meta.url)
  const content = readFileSync(path, 'utf8')
  const [start, end] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`]
  const from = content.indexOf(start)
  const to = content.indexOf(end, from)
  // Measuring takes minutes: say where the text belongs rather than drop it (results are kept in
  // the JSON, and `--render-only` writes them once the markers are back).
  if (from < 0 || to < 0) throw new Error(`${file} has no ${start} … ${end} to write the results between`)
  writeFileSync(path, `${content.slice(0, from + start.length)}\n${text}\n${content.slice(to)}`)
}

/** The Node major version action.yml runs the action on (`runs.using: node24`). */
export function actionNodeMajor(): number {
  const actionYml = readFileSync(new URL('../action.yml', import.meta.url), 'utf8')
  const using = /^\s+using:\s*['"]?node(\d+)/m.exec(actionYml)
  if (!using) throw new Error('action.yml has no runs.using: nodeNN')
  return Number(using[1])
}

/**
 * The bench runs dist/index.js (and the fleet's app) with its own Node, so its figures are the
 * action's only on the Node a runner uses for it. A plain `tsx bench/…` picks whatever `node` is
 * first on PATH, which on this machine is older: refuse it rather than publish figures for it.
 */
export function requireActionNode(): void {
  const wanted = actionNodeMajor()
  const running = Number(process.versions.node.split('.')[0])
  if (running !== wanted)
    throw new Error(
      `The action runs on Node ${wanted} (action.yml), this is Node ${process.version}: run the bench with ` +
        `npm run bench (or put "$(bash scripts/node-bin.sh ${wanted})" first on PATH)`
    )
}

/** Fails the run (after its results are written) when users saw errors: every method must have 0. */
export function failOnErrors(errors: number): void {
  if (errors > 0) {
    console.error(`\n${errors} user-visible errors: every method must have 0`)
    process.exitCode = 1
  }
}

/**
 * A bench's entry: measure (on the action's Node), keep the results in `json`, then publish them;
 * with `--render-only`, publish what `json` holds.
 */
export function runBench<R>(json: URL, measure: () => Promise<R>, publish: (results: R) => void): void {
  const run = async () => {
    if (process.argv.includes('--render-only')) return publish(JSON.parse(readFileSync(json, 'utf8')) as R)
    requireActionNode()
    const results = await measure()
    writeFileSync(json, JSON.stringify(results, null, 2) + '\n')
    publish(results)
  }
  run().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
