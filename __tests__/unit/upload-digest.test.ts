// The digest of an upload, on real files: the same tree anywhere gives the same digest; any
// change of a name, a mode, a byte or a link target gives another.
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { uploadDigest } from '../../src/runner/upload-digest.js'

let scratch: string
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'rollout-digest-'))
})
afterEach(() => rmSync(scratch, { recursive: true, force: true }))

function tree(name: string): string {
  const root = join(scratch, name)
  mkdirSync(join(root, 'bin'), { recursive: true })
  mkdirSync(join(root, 'empty'))
  writeFileSync(join(root, '.htaccess'), 'deny from all\n')
  writeFileSync(join(root, 'bin/run.sh'), '#!/bin/sh\n')
  chmodSync(join(root, 'bin/run.sh'), 0o755)
  symlinkSync('bin/run.sh', join(root, 'run'))
  return root
}

describe('uploadDigest', () => {
  it('is the same for the same tree anywhere, and differs for any change of name, mode, byte or link', async () => {
    const digest = await uploadDigest(tree('a'))
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(await uploadDigest(tree('b'))).toBe(digest)
    const changes: ((root: string) => void)[] = [
      (root) => chmodSync(join(root, 'bin/run.sh'), 0o644),
      (root) => writeFileSync(join(root, '.htaccess'), 'deny from all \n'),
      (root) => (rmSync(join(root, 'run')), symlinkSync('bin/other', join(root, 'run'))),
      (root) => cpSync(join(root, 'empty'), join(root, 'empty2'), { recursive: true }),
      (root) => writeFileSync(join(root, 'empty/x'), '')
    ]
    for (const [i, change] of changes.entries()) {
      const root = tree(`changed-${i}`)
      change(root)
      expect(await uploadDigest(root)).not.toBe(digest)
    }
  })

  it("is a file's bytes' sha256", async () => {
    writeFileSync(join(scratch, 'app.tgz'), 'abc')
    expect(await uploadDigest(join(scratch, 'app.tgz'))).toBe(
      'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    )
  })
})
