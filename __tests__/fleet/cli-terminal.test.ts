// The command line's live progress view, seen as a terminal sees it: dist/cli.js on a
// pseudo-terminal (util-linux's `script`) against a real 2-host fleet, and the same run piped.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startFleet, type Fleet } from '../../test/fleet/fleet.js'
import { inputFlags, runCli } from '../../test/run-cli.js'

let fleet: Fleet

beforeAll(async () => {
  fleet = await startFleet(2)
})

afterAll(async () => fleet?.close())

const UP_AND_ERASE = '\x1b[1A\x1b[2K'
const args = () => inputFlags(fleet.inputs({ 'private-key': fleet.ssh.clientKeyPath }))

/** Each frame of the view as drawn: the text between two erases of the block. */
const frames = (screen: string) => screen.split(UP_AND_ERASE).filter((frame) => frame.trim() !== '')

/** The steps a host's line of the view showed, in order, each once. */
function stepsShown(screen: string, entry: string): string[] {
  const shown: string[] = []
  const line = new RegExp(
    `^ {2}${entry.replace(/[.[\]]/g, '\\$&')} +([a-z-]+) +\\d+\\.\\ds {2}\\(host \\d+\\.\\ds\\)`,
    'm'
  )
  for (const frame of frames(screen)) {
    const step = line.exec(frame)?.[1]
    if (step !== undefined && step !== shown[shown.length - 1]) shown.push(step)
  }
  return shown
}

describe('rolling-deploy on a terminal', () => {
  it('draws the hosts in flight and the batches done in place, and takes the view away at the end', async () => {
    await fleet.reset()
    const run = await runCli(args(), { ptyColumns: 160 })
    expect(run.code).toBe(0)
    const screen = run.stdout.replace(/\r\n/g, '\n')
    // Redrawn in place: the cursor goes up over the block's lines and erases them.
    expect(screen.split(UP_AND_ERASE).length).toBeGreaterThan(10)
    for (const host of fleet.hosts) {
      const shown = stepsShown(screen, host.entry)
      // The same host line first showed one step, then later ones, in the rollout's order.
      expect(shown.slice(0, 1)).toEqual(['offline'])
      expect(shown).toEqual(expect.arrayContaining(['offline', 'stop', 'start', 'health', 'online']))
      expect(shown.indexOf('health')).toBeGreaterThan(shown.indexOf('start'))
    }
    expect(screen).toMatch(/^Batch 1\/2: 0\/2 batch\(es\) done$/m)
    expect(screen).toMatch(/^Batch 2\/2: 1\/2 batch\(es\) done$/m)
    // The summary follows the view, in the terminal's bold; no workflow command anywhere.
    expect(screen).toContain('\x1b[1m✅ Rollout succeeded\x1b[0m')
    expect(screen).not.toMatch(/^::/m)
    const afterView = screen.slice(screen.lastIndexOf(UP_AND_ERASE))
    expect(afterView).not.toMatch(/batch\(es\) done/)
  })

  it('is absent when the output is piped: plain lines, no escape sequence', async () => {
    await fleet.reset()
    const run = await runCli(args())
    expect(run.code).toBe(0)
    expect(run.stdout + run.stderr).not.toContain('\x1b')
    expect(run.stdout).not.toMatch(/batch\(es\) done/)
    expect(run.stdout).toMatch(/^✅ Rollout succeeded$/m)
    expect(run.stdout).toMatch(/^▸ Batch 2\/2: /m)
  })
})
