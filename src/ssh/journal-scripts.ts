// The journal's shell texts: one small file per host (named after its entry, so hosts sharing a
// home keep theirs apart) in a directory next to the deploy lock, saying what the run holding the
// host is about to do. Written whole under a temporary name and renamed into place, so a reader
// (the next run, after a kill at any instruction) finds the old entry or the new, never half of one.
import { shellQuote } from './remote-scripts.js'

/** The line before what readJournal found: `entry` then the journal's line, `rotation in|out`. */
export const JOURNAL_MARKER = '__rollout_journal__'

/** The journal directory in sh: next to the lock (`<lock>.journal`), in the login user's home by default. */
export function journalDir(lockPath: string | undefined): string {
  return lockPath === undefined ? '"$HOME/.rolling-deploy.lock.journal"' : shellQuote(`${lockPath}.journal`)
}

/** A host's file name in the journal directory: its entry with only safe characters. */
export function journalFile(entry: string): string {
  return entry.replace(/[^A-Za-z0-9._-]/g, '_')
}

/**
 * Beside the entry: the process group of the step's command and its leader's start time, which the
 * command itself writes as it starts (commandScript), so that it is there even if the run dies.
 */
export function groupFile(dir: string, file: string): string {
  return `${dir}/${shellQuote(file)}.group`
}

/** Records `line` (one line of JSON) as the host's journal entry, atomically; the last step's group goes. */
export function writeJournal(dir: string, file: string, line: string): string {
  const f = `${dir}/${shellQuote(file)}`
  // Each record is one more command in every step of a host's cycle: `[` is the shell's own, so
  // mkdir and rm run only when there is something for them to do.
  return [
    `[ -d ${dir} ] || mkdir -p ${dir}`,
    `[ ! -e ${groupFile(dir, file)} ] || rm -f ${groupFile(dir, file)}`,
    `printf '%s\\n' ${shellQuote(line)} > ${f}.tmp.$$`,
    `mv -f ${f}.tmp.$$ ${f}`
  ].join('\n')
}

/** The host's cycle is over: its entry goes, with its command's group. */
export function clearJournal(dir: string, file: string): string {
  return `rm -f ${dir}/${shellQuote(file)} ${groupFile(dir, file)}`
}

/** What a run finds at preflight: the host's journal entry, if any, and its command's group. */
export function readJournal(dir: string, file: string): string {
  const f = `${dir}/${shellQuote(file)}`
  const g = groupFile(dir, file)
  return [
    `if [ -f ${f} ]; then printf '%s entry %s\\n' ${JOURNAL_MARKER} "$(head -n 1 ${f})"; fi`,
    `if [ -f ${g} ]; then printf '%s group %s\\n' ${JOURNAL_MARKER} "$(head -n 1 ${g})"; fi`,
    'true'
  ].join('; ')
}
