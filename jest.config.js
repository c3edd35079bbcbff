// Two projects: fast unit specs beside the code, and broker tests in test/ that
// start the mock cluster (run in band: 2 cores, and each test owns its broker).
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
const moduleNameMapper = {
  '^@app/kafka-consumer$': '<rootDir>/libs/kafka-consumer/src',
  '^@app/kafka-consumer/(.*)$': '<rootDir>/libs/kafka-consumer/src/$1',
};
// The library's package.json shares the root's name (a haste collision warning on every run);
// its dist/ exists only while tools/pack-library.sh packs.
const modulePathIgnorePatterns = ['<rootDir>/libs/kafka-consumer/package\\.json$', '<rootDir>/libs/kafka-consumer/dist/'];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      moduleNameMapper,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'],
    },
    {
      displayName: 'broker',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      moduleNameMapper,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-setup.ts'],
    },
  ],
};
