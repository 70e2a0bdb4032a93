// Prints the plain closing line CI reads, from vitest's JSON report.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed, 0 skipped');
  console.error(`no test report at ${file}: the test run did not finish`);
  process.exit(1);
}
const skipped = report.numPendingTests + report.numTodoTests;
// a file that failed outside its tests (failed to load, a hook threw) counts as one failure
const brokenFiles = report.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed')).length;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + brokenFiles} failed, ${skipped} skipped`);
