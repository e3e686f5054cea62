import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends every run with the plain `N passed, N failed, N skipped` line that CI reads. A module that
 * failed to load, or a suite whose hook failed, counts as one failure, so a broken file can never
 * look green.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
  ): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const testModule of testModules) {
      if (testModule.errors().length > 0) failed += 1;
      // A failing beforeAll or afterAll fails its suite while its tests read as skipped.
      for (const suite of testModule.children.allSuites()) {
        if (suite.errors().length > 0) failed += 1;
      }
      for (const test of testModule.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
