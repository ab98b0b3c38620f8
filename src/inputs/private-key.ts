// Checks a private key (and its passphrase) offline, so a bad key is an input error, not a
// failed connection half-way through a fleet.
import { readFileSync } from 'node:fs'
import ssh2 from 'ssh2'
import { InputError } from './parse.js'

/** The key text: the value itself when it holds a key, otherwise the file it names. */
export function loadPrivateKey(value: string, passphrase: string | undefined): string {
  let text = value.trim()
  if (!text.startsWith('-----BEGIN')) {
    try {
      text = readFileSync(text, 'utf8').trim()
    } catch {
      // The value may be a mangled key, so it is never echoed back.
      throw new InputError(
        'is neither a private key (-----BEGIN ... PRIVATE KEY-----) nor the path of a readable key file'
      )
    }
  }
  const parsed = ssh2.utils.parseKey(text, passphrase)
  if (parsed instanceof Error) {
    const message = /passphrase|decrypt|bad decrypt|encrypted/i.test(parsed.message)
      ? 'cannot be decrypted: the passphrase is missing or wrong'
      : 'is not a private key ssh2 can read; expected an OpenSSH, PKCS#1 or PKCS#8 private key'
    throw new InputError(message)
  }
  if (!text.includes('PRIVATE KEY')) throw new InputError('is a public key; expected the private key')
  return `${text}\n`
}
