// The Log port over @actions/core: workflow commands for groups and annotations.
import * as core from '@actions/core'
import type { Log } from '../ports.js'

export const actionsLog: Log = {
  info: (message) => core.info(message),
  notice: (message, title) => core.notice(message, title ? { title } : {}),
  warning: (message, title) => core.warning(message, title ? { title } : {}),
  error: (message, title) => core.error(message, title ? { title } : {}),
  group: (name, fn) => core.group(name, fn)
}
