// Builds dist/ with ncc and refuses to ship native code: runners may be ARM, so ssh2 must use its
// pure-JS fallbacks (its addons are never built: see .npmrc) and no .node/.exe file may be in dist/.
import { execFileSync } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })
execFileSync('npx', ['ncc', 'build', 'src/index.ts', '-o', 'dist', '--license', 'licenses.txt', '--quiet'], {
  stdio: 'inherit'
})
// ssh2 ships pageant's Windows helper for agent auth on Windows; the action never uses it.
rmSync('dist/pagent.exe', { force: true })
const native = readdirSync('dist', { recursive: true }).filter((file) => /\.(node|exe|dll|so)$/.test(String(file)))
if (native.length > 0) {
  console.error(`dist/ must not contain native binaries, found: ${native.join(', ')}`)
  process.exit(1)
}
