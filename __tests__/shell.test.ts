import { execFileSync, spawnSync } from 'node:child_process'
import { describe, expect, it } from '@jest/globals'
import { killGroupScript, PGID_MARKER, remoteScript, shellQuote } from '../src/shell.js'

describe('shellQuote', () => {
  it.each(["it's", '"double"', '$(touch /tmp/pwned)', 'a; rm -rf /', 'two words', 'line1\nline2', '`id`', ''])(
    'a real sh reads %p back verbatim',
    (value) => {
      expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(value)}`]).toString()).toBe(value)
    }
  )
})

describe('remoteScript', () => {
  it('exports variables, then runs the command with set -e in sh', () => {
    const script = remoteScript('echo "$GREETING $ROLLOUT_HOST"; false; echo never', [
      ['GREETING', "hi 'there' $(id)"],
      ['ROLLOUT_HOST', 'h1']
    ])
    let out = ''
    let status = 0
    try {
      execFileSync('sh', ['-c', script])
    } catch (error: unknown) {
      const failed = error as { stdout: Buffer; status: number }
      out = failed.stdout.toString()
      status = failed.status
    }
    expect(out).toBe("hi 'there' $(id) h1\n")
    expect(status).toBe(1)
  })
})

describe('process group reporting', () => {
  it('reports the session process group first on stderr, so a timeout can end every process of a command', () => {
    const result = spawnSync('setsid', ['sh', '-c', remoteScript('echo out; echo err >&2', [])])
    const [first, ...rest] = result.stderr.toString().trim().split('\n')
    expect(first).toMatch(new RegExp(`^${PGID_MARKER} \\d+$`))
    expect(rest).toEqual(['err'])
    expect(result.stdout.toString()).toBe('out\n')
  })

  it('kills a group with TERM, then KILL', () => {
    expect(killGroupScript(4242)).toBe(
      'kill -TERM -- -4242 2>/dev/null; sleep 1; kill -KILL -- -4242 2>/dev/null; true'
    )
  })
})
