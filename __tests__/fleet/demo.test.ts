// The README's first quick-start command, as a user runs it (minus the install, done by CI).
import { spawnSync } from 'node:child_process'
import { expect, it } from '@jest/globals'

it('the demo rolls a 3-host fleet under traffic with 0 errors and tears it down', () => {
  const demo = spawnSync('npx', ['tsx', 'test/fleet/demo.ts'], { encoding: 'utf8', timeout: 120_000 })
  expect(demo.status).toBe(0)
  expect(demo.stdout).toMatch(/^\d+ requests, 0 errors \(\d+ × v1, \d+ × v2\)$/m)
  expect(demo.stdout).toMatch(/^at most 1 host\(s\) out of rotation at once/m)
  expect(demo.stdout).toContain('✅ Rollout succeeded')
  expect(demo.stdout).toContain('Fleet stopped and removed.')
})
