// The steps of a host as data: their order, bounds, undo and cancellation, from Settings alone.
import { describe, expect, it } from '@jest/globals'
import {
  hostSteps,
  migratesHere,
  restoreRotationSteps,
  rollBackSteps,
  stepColumns
} from '../../src/rollout/host-steps.js'
import { hostSideCommand } from '../../src/load-balancer/host-side.js'
import { settingsWith } from '../../test/fakes/fakes.js'

describe('hostSteps', () => {
  it("follows the seed's order, each step bounded, with what a failure after it must undo", () => {
    const settings = settingsWith({
      'deploy-command': 'tar xzf /tmp/app.tgz',
      'drain-timeout': '30s',
      'drain-port': '80'
    })
    expect(
      hostSteps(settings).map(({ name, boundMs, undo, cancellable }) => ({ name, boundMs, undo, cancellable }))
    ).toEqual([
      { name: 'offline', boundMs: 600_000, undo: 'rotation', cancellable: true },
      { name: 'offline-wait', boundMs: 8000, undo: 'nothing', cancellable: true },
      { name: 'drain', boundMs: 30_000, undo: 'nothing', cancellable: true },
      { name: 'stop', boundMs: 600_000, undo: 'release', cancellable: true },
      { name: 'deploy', boundMs: 600_000, undo: 'release', cancellable: true },
      { name: 'start', boundMs: 600_000, undo: 'release', cancellable: true },
      { name: 'health', boundMs: 50_000, undo: 'nothing', cancellable: true },
      { name: 'online', boundMs: 600_000, undo: 'nothing', cancellable: true },
      { name: 'online-wait', boundMs: 8000, undo: 'nothing', cancellable: true }
    ])
    expect(
      hostSteps(settings)
        .filter((step) => step.provesHealthy)
        .map((step) => step.name)
    ).toEqual(['health'])
  })

  it('removes and touches the health file, quoted, unless offline and online commands are given', () => {
    const commands = (inputs: Record<string, string>) =>
      hostSteps(settingsWith(inputs)).flatMap(({ action }) => {
        if (action.kind === 'command') return [action.command]
        if (action.kind !== 'rotation' || action.change.startsWith('await')) return []
        return [hostSideCommand(settingsWith(inputs), action.change === 'take-out' ? 'out' : 'in')]
      })
    expect(commands({ 'health-file': "/srv/it's here" })).toEqual([
      "rm -f '/srv/it'\\''s here'",
      'appctl stop',
      'appctl start',
      "touch '/srv/it'\\''s here'"
    ])
    expect(commands({ 'health-file': '', 'offline-command': 'lb rm', 'online-command': 'lb add' })).toEqual([
      'lb rm',
      'appctl stop',
      'appctl start',
      'lb add'
    ])
  })

  it('runs migrate-command between deploy and start on the migrate host alone, a step that undoes the release', () => {
    const settings = settingsWith({ 'deploy-command': 'deploy', 'migrate-command': 'migrate-db', 'migrate-host': 'h2' })
    expect(settings.hosts.map((target) => migratesHere(settings, target.entry))).toEqual([false, true, false, false])
    const names = (migrates: boolean) => hostSteps(settings, undefined, migrates).map((step) => step.name)
    expect(names(true).slice(3, 6)).toEqual(['deploy', 'migrate', 'start'])
    expect(names(false)).not.toContain('migrate')
    expect(hostSteps(settings, undefined, true).find((step) => step.name === 'migrate')).toEqual({
      name: 'migrate',
      action: { kind: 'command', command: 'migrate-db' },
      boundMs: 600_000,
      undo: 'release',
      cancellable: true
    })
    // Release mode runs it once for the fleet before any switch: never among a host's steps.
    const release = settingsWith({ 'release-dir': '/srv/app', 'migrate-command': 'migrate-db' })
    expect(migratesHere(release, 'deploy@h1')).toBe(false)
    expect(hostSteps(release, undefined, true).map((step) => step.name)).not.toContain('migrate')
  })

  it('starts with the upload when there is one', () => {
    const steps = hostSteps(settingsWith({ upload: 'package.json', 'upload-to': '/tmp/app' }))
    expect(steps[0]).toMatchObject({ name: 'upload', action: { kind: 'upload', from: 'package.json', to: '/tmp/app' } })
  })
})

describe('the steps that undo a failure', () => {
  it('restore rotation with the online command alone, never cancelled', () => {
    expect(restoreRotationSteps(settingsWith())).toEqual([
      expect.objectContaining({
        name: 'restore-online',
        cancellable: false,
        action: { kind: 'rotation', change: 'put-back' }
      })
    ])
  })

  it('roll back with rollback-command, a status-only health check and online, never cancelled; none without it', () => {
    expect(rollBackSteps(settingsWith())).toEqual([])
    const steps = rollBackSteps(settingsWith({ 'rollback-command': 'appctl rollback' }))
    expect(steps.map((step) => step.name)).toEqual(['rollback', 'rollback-health', 'restore-online', 'online-wait'])
    expect(steps[1].action).toEqual({ kind: 'health', matchBody: false })
    expect(steps.every((step) => !step.cancellable)).toBe(true)
  })

  it('give the summary one column per step name, in order: the steps of a host, then the new names of the recovery', () => {
    const settings = settingsWith({ 'rollback-command': 'x' })
    expect(stepColumns(settings)).toEqual([
      ...hostSteps(settings).map((step) => step.name),
      'restore-online',
      'rollback',
      'rollback-health'
    ])
  })
})
