// dist/ ships the license of every package bundled into it: the packages are read from the
// webpack stats of a fresh ncc build of the sources, and each must have its entry in the
// committed dist/licenses.txt.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'

const scratch = mkdtempSync(join(tmpdir(), 'rollout-licenses-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The packages a fresh ncc build of `entry` bundles, read from its webpack stats. */
function bundledBy(entry: string): string[] {
  const out = join(scratch, entry.replace(/\W/g, '-'))
  const stats = join(out, 'stats.json')
  execFileSync('npx', ['ncc', 'build', entry, '-o', out, '--stats-out', stats, '--quiet'])
  return JSON.parse(
    execFileSync('node', [
      '--input-type=module',
      '-e',
      `import { bundledPackages } from './scripts/package.mjs'
       import { readFileSync } from 'node:fs'
       console.log(JSON.stringify(bundledPackages(JSON.parse(readFileSync(process.argv[1], 'utf8')))))`,
      stats
    ]).toString()
  )
}

describe('dist/licenses.txt', () => {
  it('has an entry, with license text, for every package bundled into dist/ (the action and the CLI)', () => {
    // Both bundles: the action's and the command line's (which alone brings the YAML parser).
    const bundled = [...new Set(['src/index.ts', 'src/cli.ts'].flatMap(bundledBy))]
    // The packages the action cannot run without are among them (the stats are read right).
    expect(bundled).toEqual(
      expect.arrayContaining([
        '@actions/core',
        'node-ssh',
        'ssh2',
        'undici',
        'tweetnacl',
        'bcrypt-pbkdf',
        'asn1',
        'yaml',
        // load-balancer: aws-elbv2 (a chunk of its own, loaded only then), and its packages that
        // publish no license file (their Apache-2.0 text is taken from a sibling's: scripts/package.mjs).
        '@aws-sdk/client-elastic-load-balancing-v2',
        '@aws-sdk/nested-clients'
      ])
    )
    const licenses = readFileSync('dist/licenses.txt', 'utf8')
    const entries = new Map(
      licenses
        .split(/\n(?=[@a-z0-9][@a-z0-9/._-]*\n[^\n]*\n)/)
        .map((entry) => entry.split('\n'))
        .map(([name, id, ...text]) => [name, { id, text: text.join('\n').trim() }])
    )
    for (const name of bundled) {
      expect({ name, hasEntry: entries.has(name) }).toEqual({ name, hasEntry: true })
      expect(entries.get(name)?.id).not.toBe('')
      expect(entries.get(name)?.text.length).toBeGreaterThan(100)
    }
  })
})
