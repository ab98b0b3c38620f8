// ssh2's bundled poly1305 (Emscripten) reads `__dirname` when it loads, which an ESM bundle
// lacks. It must be defined before ssh2 is evaluated, so index.ts imports this module first.
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const globals = globalThis as { __dirname?: string }
globals.__dirname ??= dirname(fileURLToPath(import.meta.url))
