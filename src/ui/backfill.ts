import type { BackfillResult } from '../operations/backfill.js';
import { plural } from './format.js';
import type { Output } from './output.js';

/** `backfill`: what a dry run would process, or the summary of a run; the report itself under --json. */
export function renderBackfill(output: Output, result: BackfillResult, dryRun: boolean): void {
  const { report } = result;
  if (dryRun) {
    const wouldProcess = report.wouldProcess ?? [];
    if (wouldProcess.length === 0) {
      output.info(`Nothing to process${report.skipped > 0 ? `: ${plural(report.skipped, 'object')} already SUCCEEDED` : ''}.`);
    } else {
      output.info(`Would process ${plural(wouldProcess.length, 'object')} with ${result.functionName}${report.skipped > 0 ? `, skipping ${report.skipped} already SUCCEEDED` : ''}:`);
      for (const key of wouldProcess) output.info(`  ${key}`);
    }
  } else {
    printSummary(output, result);
  }
  if (output.json) output.result(report);
}

function printSummary(output: Output, { report, listingComplete }: BackfillResult): void {
  const seconds = (report.invokeMs / 1000).toFixed(1);
  const rate = report.processed > 0 ? ` in ${seconds} s (${report.objectsPerSecond} objects/s at concurrency ${report.concurrency})` : '';
  const summary = `Backfill: ${report.processed} processed (${report.succeeded} succeeded, ${report.failed.length} failed), ${report.skipped} skipped as already SUCCEEDED${rate}`;
  if (report.failed.length > 0) {
    output.error(summary);
    for (const failure of report.failed) output.error(`  ${failure.key}: ${failure.reason}`);
  } else if (report.processed === 0 && !report.interrupted) {
    output.success(report.skipped > 0 ? `Nothing to do: ${plural(report.skipped, 'object')} already SUCCEEDED.` : 'Nothing to do: no objects to process.');
  } else {
    output.success(summary);
  }
  if (report.interrupted) {
    // The listing stops too, so objects on pages not yet listed are in no count.
    const unlisted = listingComplete ? '' : ' (and the rest of the bucket not yet listed)';
    output.warn(`Interrupted: ${plural(report.notStarted, 'object')} not started${unlisted}. Run \`img-resizer backfill\` again to finish.`);
  }
}
