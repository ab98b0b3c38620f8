// Key pairs in OpenSSH's own format, made in-process: the big fleet needs one per host.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'

const sshString = (value: Buffer | string) => {
  const bytes = Buffer.from(value)
  const length = Buffer.alloc(4)
  length.writeUInt32BE(bytes.length)
  return Buffer.concat([length, bytes])
}

/**
 * Writes an ed25519 key pair in OpenSSH's format: Node makes one in microseconds, ssh-keygen in
 * 30 ms (15 s for 500). Not ssh2's generateKeyPairSync: it drops a public key's leading zero
 * bytes, and sshd refuses about one key in 128.
 */
export function writeKey(path: string, comment: string): string {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
  const [publicKey, seed] = [Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.d!, 'base64url')]
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(publicKey)])
  const check = randomBytes(4)
  const secret = [check, check, blob, sshString(Buffer.concat([seed, publicKey])), sshString(comment)]
  const unpadded = Buffer.concat(secret)
  const padding = Buffer.from(Array.from({ length: (8 - (unpadded.length % 8)) % 8 }, (_, i) => i + 1))
  const header = [Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString('')]
  const count = Buffer.from([0, 0, 0, 1])
  const body = Buffer.concat([...header, count, sshString(blob), sshString(Buffer.concat([unpadded, padding]))])
  const lines = body.toString('base64').match(/.{1,70}/g) ?? []
  const pem = ['-----BEGIN OPENSSH PRIVATE KEY-----', ...lines, '-----END OPENSSH PRIVATE KEY-----', '']
  writeFileSync(path, pem.join('\n'), { mode: 0o600 })
  const line = `ssh-ed25519 ${blob.toString('base64')}`
  writeFileSync(`${path}.pub`, `${line} ${comment}\n`)
  return line
}
