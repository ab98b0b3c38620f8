// The texts nobody may read back: the secret inputs, as the runner is told to mask them, and what
// the action itself hides where no runner masks for it (the command line, a host's output in the
// job summary and the report output).
import { SECRET_INPUTS } from './catalog.js'
import type { ReadInput } from './input-reader.js'

/** The texts to hide from every log: each secret input, and each long line of a multi-line key. */
export function secretValues(readInput: ReadInput): string[] {
  return SECRET_INPUTS.map((name) => readInput(name))
    .filter((value) => value.trim() !== '')
    .flatMap((value) => [value, ...value.split('\n').flatMap((line) => (line.trim().length >= 8 ? [line.trim()] : []))])
}

/**
 * What the action hides in what it prints of its own (a host's output in the summary and report,
 * the command line's log): the secret inputs, and each env value of 8 characters or more (shorter
 * ones are ordinary words too: hiding `v2` would hide every "v2"), also as they appear inside JSON.
 */
export function hiddenTexts(readInput: ReadInput): string[] {
  const envValues = readInput('env')
    .split('\n')
    .flatMap((line) => (line.includes('=') ? [line.slice(line.indexOf('=') + 1).trim()] : []))
    .filter((value) => value.length >= 8)
  const secrets = [...secretValues(readInput), ...envValues]
  return [...secrets, ...secrets.map((secret) => JSON.stringify(secret).slice(1, -1))]
}

/** Replaces every secret in `text` with `***`, the longest first so no part of one is left. */
export function masker(secrets: readonly string[]): (text: string) => string {
  const sorted = [...new Set(secrets)].filter((secret) => secret !== '').sort((a, b) => b.length - a.length)
  return (text) => sorted.reduce((masked, secret) => masked.split(secret).join('***'), text)
}
