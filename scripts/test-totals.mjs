// Prints vitest's totals from its JSON report as one plain line: "N passed, N failed".
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed = report.numPassedTests;
  // A suite that failed to load has no tests to count: count it as one failure.
  failed =
    report.numFailedTests + (report.numFailedTestSuites ?? 0) - countSuitesWithFailedTests(report);
} catch (error) {
  console.error(`no test report at ${file}: ${String(error)}`);
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);

function countSuitesWithFailedTests(report) {
  return report.testResults.filter((suite) =>
    suite.assertionResults.some((test) => test.status === 'failed'),
  ).length;
}
