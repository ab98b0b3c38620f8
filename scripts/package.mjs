// Builds dist/ with ncc, writes dist/licenses.txt for every package bundled into it, and refuses
// to ship native code: runners may be ARM, so ssh2 must use its pure-JS fallbacks (its addons are
// never built: see .npmrc) and no .node/.exe file may be in dist/.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The packages (under node_modules) whose code ncc put into the bundle, from its webpack stats.
 * (ncc's own --license wrote only the last chunk's packages once undici moved into a chunk.)
 */
export function bundledPackages(stats) {
  const names = new Set()
  const visit = (module) => {
    // The innermost node_modules/<name> of the module's path is the package its code is from.
    const found = [...String(module.identifier ?? '').matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)]
    if (found.length > 0) names.add(found[found.length - 1][1])
    for (const inner of module.modules ?? []) visit(inner)
  }
  for (const module of stats.modules ?? []) visit(module)
  return [...names].sort()
}

const MIT = `Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`

const licenseFile = (dir) => readdirSync(dir).find((entry) => /^(license|licence|copying)(\.|$)/i.test(entry))

/**
 * Apache-2.0's text, which reads the same in every copy, as a bundled package ships it: some AWS SDK
 * packages declare Apache-2.0 but leave the file out of what they publish.
 */
function apacheText(packages) {
  for (const name of packages) {
    const dir = join('node_modules', name)
    const file = licenseFile(dir)
    const text = file && readFileSync(join(dir, file), 'utf8').trim()
    if (text && /^Apache License\s+Version 2\.0, January 2004/.test(text)) return { from: name, text }
  }
  return undefined
}

/**
 * A package's license text: its license file, or for an MIT package that ships none, MIT's text with
 * its authors, or for an Apache-2.0 one, the license's text from a bundled package that ships it.
 */
function licenseText(dir, manifest, packages) {
  const file = licenseFile(dir)
  if (file) return readFileSync(join(dir, file), 'utf8').trim()
  const apache = manifest.license === 'Apache-2.0' ? apacheText(packages) : undefined
  if (apache)
    return `Apache-2.0 (declared in its package.json, which ships no license file; the text as ${apache.from} ships it)\n\n${apache.text}`
  if (manifest.license !== 'MIT') throw new Error(`${manifest.name} is bundled into dist/ but ships no license file`)
  const authors = [manifest.author ?? []].flat().map((author) => (typeof author === 'string' ? author : author.name))
  return `MIT License (declared in its package.json, which ships no license file)\n\nCopyright (c) ${authors.join(', ')}\n\n${MIT}`
}

/** `name\nlicense id\nlicense text`, as ncc writes each entry. */
function licenseEntry(name, packages) {
  const dir = join('node_modules', name)
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  // Old manifests list `licenses: [{ type }]`.
  const id = manifest.license ?? (manifest.licenses ?? []).map((license) => license.type).join(' OR ')
  return `${name}\n${id}\n${licenseText(dir, manifest, packages)}\n`
}

/** Bundles `entry` into `outDir` with ncc; the packages bundled into it. */
function build(entry, outDir) {
  const scratch = mkdtempSync(join(tmpdir(), 'rollout-package-'))
  const statsFile = join(scratch, 'stats.json')
  execFileSync('npx', ['ncc', 'build', entry, '-o', outDir, '--stats-out', statsFile, '--quiet'], {
    stdio: 'inherit'
  })
  const packages = bundledPackages(JSON.parse(readFileSync(statsFile, 'utf8')))
  rmSync(scratch, { recursive: true, force: true })
  rmSync(join(outDir, 'stats.json'), { force: true })
  return packages
}

// The command line's bin. ncc names every bundle index.js, and its chunks N.index.js would collide
// with the action's, so the CLI is bundled into dist/cli/ and reached through this file.
const CLI_BIN = `#!/usr/bin/env node
// rolling-deploy, the command line: the bundle of src/cli.ts (see scripts/package.mjs).
import './cli/index.js'
`

if (import.meta.url === `file://${process.argv[1]}`) {
  rmSync('dist', { recursive: true, force: true })
  const packages = new Set([...build('src/index.ts', 'dist'), ...build('src/cli.ts', 'dist/cli')])
  writeFileSync('dist/cli.js', CLI_BIN, { mode: 0o755 })
  const sorted = [...packages].sort()
  writeFileSync('dist/licenses.txt', sorted.map((name) => licenseEntry(name, sorted)).join('\n'))
  // ssh2 ships pageant's Windows helper for agent auth on Windows; the action never uses it.
  for (const dir of ['dist', 'dist/cli']) rmSync(join(dir, 'pagent.exe'), { force: true })
  const native = readdirSync('dist', { recursive: true }).filter((file) => /\.(node|exe|dll|so)$/.test(String(file)))
  if (native.length > 0) {
    console.error(`dist/ must not contain native binaries, found: ${native.join(', ')}`)
    process.exit(1)
  }
}
