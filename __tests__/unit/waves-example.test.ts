// docs/large-fleets.md's waves example keeps what makes it waves: npm run validate checks that it is
// a valid workflow using real inputs and outputs; this checks the properties the page promises.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { yamlBlocks } from '../../scripts/validate-workflows.js'

interface Step {
  id?: string
  uses?: string
  if?: string
  with?: Record<string, string>
}
interface Job {
  needs?: string
  if?: string
  strategy?: { 'max-parallel'?: number; 'fail-fast'?: boolean; matrix?: { include?: Record<string, string>[] } }
  steps: Step[]
}

const page = readFileSync('docs/large-fleets.md', 'utf8')
const workflows = yamlBlocks(page).map((block) => parse(block.text) as { jobs?: Record<string, Job> })
const waves = workflows.find((workflow) => workflow.jobs?.wave)?.jobs ?? {}

describe('the waves example (docs/large-fleets.md)', () => {
  it('runs one shard at a time, the canary first, and stops at the first failed wave', () => {
    const { strategy } = waves.wave
    expect(strategy?.['max-parallel']).toBe(1)
    expect(strategy?.['fail-fast']).toBe(true)
    expect(strategy?.matrix?.include?.[0].shard).toBe('canary')
    expect(strategy?.matrix?.include?.length).toBeGreaterThan(2)
  })

  it('rolls each shard’s own hosts, and uploads its report-file as an artifact named by its shard', () => {
    const [rollout] = waves.wave.steps.filter((step) => step.uses?.includes('rolling-deploy-action'))
    expect(rollout.with?.hosts).toBe('${{ vars[matrix.hosts_var] }}')
    const upload = waves.wave.steps.find(
      (step) => step.with?.path === `\${{ steps.${rollout.id}.outputs.report-file }}`
    )
    expect(upload?.uses).toMatch(/^actions\/upload-artifact@/)
    expect(upload?.with?.name).toContain('${{ matrix.shard }}')
    expect(upload?.if).toContain('always()')
  })

  it('collects every wave’s report after the matrix, even when a wave failed', () => {
    expect(waves.reports.needs).toBe('wave')
    expect(waves.reports.if).toBe('always()')
    expect(waves.reports.steps[0].with?.pattern).toBe('rollout-report-*')
  })
})
