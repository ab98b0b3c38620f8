// The upload scripts of src/ssh/upload-scripts.ts run by a real local sh, fed on their input as
// an upload channel feeds them, and the runner's check of a release archive's members.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { unpackArchive, writeFile } from '../../src/ssh/upload-scripts.js'
import { memberOutside } from '../../src/ssh/upload.js'

let dir: string
const sh = (script: string, input: Buffer | string) => spawnSync('sh', ['-c', script], { input, timeout: 10_000 })

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'rollout-upload-scripts-')), `it's $(here)`)
})
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }))

describe('upload scripts', () => {
  it('writeFile puts its input under the name, with the mode, leaving no partial file', () => {
    const path = join(dir, 'sub dir', 'run "me".sh')
    const result = sh(writeFile(path, 0o100755), '#!/bin/sh\n')
    expect(result.status).toBe(0)
    expect(readFileSync(path, 'utf8')).toBe('#!/bin/sh\n')
    expect(statSync(path).mode & 0o7777).toBe(0o755)
    expect(existsSync(`${path}.rollout-upload`)).toBe(false)
  })

  it('writeFile that cannot finish leaves neither the file nor its partial copy', () => {
    mkdirSync(dir, { recursive: true })
    const path = join(dir, 'app.jar')
    const result = sh(writeFile(path, 0o644).replace(/^mv .*/m, 'exit 3'), 'bytes')
    expect(result.status).toBe(3)
    expect(existsSync(path)).toBe(false)
    expect(existsSync(`${path}.rollout-upload`)).toBe(false)
  })

  it('unpackArchive makes the directory and unpacks the archive on its input, modes kept', () => {
    const source = mkdtempSync(join(tmpdir(), 'rollout-upload-source-'))
    try {
      writeFileSync(join(source, '.env.example'), 'A=\n', { mode: 0o640 })
      const archive = spawnSync('tar', ['-czf', '-', '-C', source, '.']).stdout
      expect(sh(unpackArchive(join(dir, 'releases/r1'), true), archive).status).toBe(0)
      const unpacked = join(dir, 'releases/r1/.env.example')
      expect(readFileSync(unpacked, 'utf8')).toBe('A=\n')
      expect(statSync(unpacked).mode & 0o7777).toBe(0o640)
    } finally {
      rmSync(source, { recursive: true, force: true })
    }
  })
})

describe('memberOutside', () => {
  it('names the first absolute or climbing member, and passes names that only look alike', () => {
    expect(memberOutside(['./', './a..b', './..hidden', 'x/y'])).toBeUndefined()
    expect(memberOutside(['./a', '/etc/cron.d/x', '../b'])).toBe('/etc/cron.d/x')
    expect(memberOutside(['./a', 'a/../../b'])).toBe('a/../../b')
  })
})
