import type { QueueBackfillProgress, QueueBackfillReport, QueueBackfillResult } from '../operations/backfill-queue.js';
import { BACKFILL_MAX_RECEIVE_COUNT } from '../provision/backfill-queue.js';
import { plural } from './format.js';
import type { Output } from './output.js';

/** Without a terminal, a progress line at most this often. */
const LINE_INTERVAL_MS = 5_000;

const count = (n: number): string => n.toLocaleString('en-US');

function describe(report: QueueBackfillReport, phase: 'enqueuing' | 'waiting' | 'draining'): string {
  const queue = `queue: ${count(report.queue.visible)} waiting, ${count(report.queue.inFlight)} in flight`;
  if (phase === 'enqueuing') return `listed ${count(report.listed)}, enqueued ${count(report.enqueued)}, skipped ${count(report.skipped)}`;
  if (phase === 'draining') return `waiting for the queue to empty before checking ${plural(report.uncertain, 'uncertain object')} (${queue})`;
  return `enqueued ${count(report.enqueued + report.alreadyQueued)}, processed ${count(report.processed)} (${queue})`;
}

/** A spinner on a terminal, a line every few seconds otherwise: enqueued, processed (from the table), the queue's counters. */
export function queueBackfillProgress(output: Output, label: string, now: () => number = Date.now): QueueBackfillProgress {
  const task = output.task(label);
  let lastLineAt = now();
  return {
    update(report, phase) {
      const text = `${label}: ${describe(report, phase)}`;
      if (output.interactive) {
        task.update(text);
        return;
      }
      if (now() - lastLineAt < LINE_INTERVAL_MS) return;
      lastLineAt = now();
      output.note(text);
    },
    done(report) {
      task.succeed(`${label}: listed ${count(report.listed)}, enqueued ${count(report.enqueued)}`);
    },
  };
}

/** `backfill --via queue`: the summary, or the report under --json. */
export function renderQueueBackfill(output: Output, { report, journalFile }: QueueBackfillResult): void {
  if (output.json) {
    output.result(report);
    return;
  }
  const already = report.alreadyQueued > 0 ? `, ${count(report.alreadyQueued)} already in the queue from an earlier run` : '';
  output.info(`Enqueued ${plural(report.enqueued, 'object')} into ${report.queueName}${already}; ${count(report.skipped)} skipped as already SUCCEEDED.`);
  for (const refused of report.refused) output.error(`  not enqueued: ${refused.key}: ${refused.reason}`);
  if (report.waited) {
    const seconds = (report.durationMs / 1000).toFixed(1);
    const summary = `Backfill via queue: ${count(report.processed)} processed (${count(report.succeeded)} succeeded, ${report.failed.length} failed) in ${seconds} s (${report.imagesPerSecond} images/s)`;
    if (report.failed.length > 0) {
      output.error(summary);
      for (const failure of report.failed) output.error(`  ${failure.key}: ${failure.reason}`);
    } else {
      output.success(summary);
    }
  }
  if (report.skippedFailed.length > 0) {
    output.warn(`Skipped ${plural(report.skippedFailed.length, 'object')} whose last attempt failed permanently (\`--retry-failed\` tries them again).`);
  }
  if (report.interrupted) {
    output.warn(`Interrupted: what is in the queue is still processed. Run \`img-resizer backfill --via queue\` again to finish; nothing is enqueued twice (${journalFile}).`);
  } else if (!report.waited) {
    const uncertain = report.uncertain > 0 ? ` ${plural(report.uncertain, 'object')} from a killed run wait to be checked once the queue is empty.` : '';
    output.info(`Not waiting (--no-wait): the queue holds ${count(report.queue.visible)} waiting, ${count(report.queue.inFlight)} in flight.${uncertain} Run again to follow it.`);
  } else if (report.notProcessed.length > 0) {
    output.warn(
      `${plural(report.notProcessed.length, 'object')} not seen processed once the queue was empty: after ${BACKFILL_MAX_RECEIVE_COUNT} receives a message goes to the failed-events queue (\`img-resizer failures list\`).`,
    );
    for (const key of report.notProcessed.slice(0, 20)) output.warn(`  ${key}`);
  }
}
