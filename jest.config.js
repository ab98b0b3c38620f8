// ESM all the way: @actions/core 3 is ESM-only, so tests run under --experimental-vm-modules.
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
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
  testTimeout: 120000,
  // The fleet suites measure user-visible errors under load on 2 cores: one suite at a time.
  maxWorkers: 1
}
