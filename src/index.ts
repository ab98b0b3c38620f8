// First import on purpose: see esm-shims.ts.
import './esm-shims.js'
import { run } from './main.js'

await run()
