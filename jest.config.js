// ESM all the way: @actions/core 3 is ESM-only, so tests run under --experimental-vm-modules.
const typescript = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] }
}

// Two projects, chosen with --selectProjects (npm run test:unit, npm run test:fleet; npm test runs both):
// - unit: the code on hand-built fakes (test/fakes/), shell scripts run by a local sh, local HTTP
//   servers on 127.0.0.1. No root, no network, no dist/: seconds.
// - fleet: dist/ on real hosts (sshd, nginx, HAProxy from test/fleet/), as root, and the checks of
//   the committed bundle itself. Minutes.
// The scripts end --selectProjects with a flag (--injectGlobals, the default anyway): it takes every
// word after it as a project name, and would swallow the file paths `npm run test:unit -- FILE` adds.
export default {
  projects: [
    {
      ...typescript,
      displayName: 'unit',
      roots: ['<rootDir>/__tests__/unit'],
      testMatch: ['**/*.test.ts']
    },
    {
      ...typescript,
      displayName: 'fleet',
      roots: ['<rootDir>/__tests__/fleet'],
      testMatch: ['**/*.test.ts']
    }
  ],
  collectCoverageFrom: [
    'src/**/*.ts',
    '!src/index.ts',
    '!src/cli.ts',
    '!src/esm-shims.ts',
    '!src/ssh/connector.ts',
    '!src/ssh/http-over-ssh.ts',
    '!src/runner/actions-log.ts'
  ],
  coverageThreshold: { global: { lines: 85, branches: 75 } },
  // Jest reads the timeout from here only, not per project.
  testTimeout: 120000,
  // The fleet suites measure user-visible errors under load on 2 cores: one suite at a time.
  maxWorkers: 1
}
