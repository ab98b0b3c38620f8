#!/usr/bin/env node
// rolling-deploy, the command line: the bundle of src/cli.ts (see scripts/package.mjs).
import './cli/index.js'
