import { execFileSync, spawn, spawnSync } from 'node:child_process'
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

  it.each(['bash', 'dash'])('ends the whole group from a %s login shell, a child ignoring TERM too', (loginShell) => {
    const group = spawn('setsid', ['sh', '-c', `sh -c 'trap "" TERM; sleep 300' & sleep 300`], { stdio: 'ignore' })
    const pgid = group.pid as number // setsid execs sh in place: the group leader
    execFileSync('sleep', ['0.3'])
    // Killed processes linger as zombies until reaped, so only the living count.
    const alive = () =>
      spawnSync('ps', ['-o', 'stat=', '-g', String(pgid)])
        .stdout.toString()
        .split('\n')
        .filter((stat) => stat.trim() !== '' && !stat.startsWith('Z'))
    expect(alive().length).toBeGreaterThanOrEqual(3)
    execFileSync(loginShell, ['-c', killGroupScript(pgid)])
    expect(alive()).toEqual([])
  })
})
