// src/ssh.ts on its own against a real OpenSSH sshd: what the bundled action relies on for every
// phase, checked where a race would hide in the end-to-end runs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { systemClock, type RemoteHost } from '../src/ports.js'
import { createSshConnector } from '../src/ssh.js'
import { RecordingLog, settingsWith } from '../__fixtures__/fakes.js'
import { connectionInputs, startSshFleet, type SshFleet } from '../test/fleet/ssh-hosts.js'

let fleet: SshFleet
let host: RemoteHost

beforeAll(async () => {
  fleet = await startSshFleet(1)
  const settings = settingsWith(connectionInputs(fleet))
  host = await createSshConnector(settings, systemClock, new RecordingLog()).connect(
    settings.hosts[0],
    new AbortController().signal
  )
})

afterAll(async () => {
  await host?.close()
  await fleet?.close()
})

describe('SshRemoteHost.exec', () => {
  it('reports the exit status of 400 quick commands, 10 at a time (found lost under load by the benchmark)', async () => {
    const codes: (number | null)[] = new Array(400)
    let next = 0
    const worker = async () => {
      for (let i = next++; i < codes.length; i = next++) {
        const result = await host.exec(`exit ${i % 3}`, {
          env: [],
          timeoutMs: 10_000,
          signal: new AbortController().signal,
          onLine: () => undefined
        })
        codes[i] = result.code
      }
    }
    await Promise.all(Array.from({ length: 10 }, worker))
    expect(codes).toEqual(Array.from({ length: 400 }, (_, i) => i % 3))
  })
})
