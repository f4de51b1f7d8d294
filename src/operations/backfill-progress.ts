import type { Output } from '../ui/output.js';
import type { Clock } from './wait-for-items.js';

/** Without a terminal, a running-count line at most this often (a redraw per object would flood a log). */
const LINE_INTERVAL_MS = 5_000;

export interface BackfillCounts {
  listed: number;
  /** Needed processing so far (with --dry-run: would be processed). */
  pending: number;
  processed: number;
}

export interface BackfillProgress {
  update(counts: BackfillCounts): void;
  succeed(text: string): void;
  fail(text: string): void;
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * Progress of a backfill that streams the bucket: the total is not known until the listing ends, so it shows
 * running counts ("processed 1,234 (listed 5,000)") instead of N/M — a spinner on a terminal, a line every few
 * seconds otherwise.
 */
export function backfillProgress(output: Output, label: string, options: { dryRun: boolean; clock: Clock }): BackfillProgress {
  const task = output.task(label);
  const describe = (c: BackfillCounts): string =>
    options.dryRun ? `listed ${count(c.listed)}, ${count(c.pending)} to process` : `processed ${count(c.processed)} (listed ${count(c.listed)})`;
  let lastLineAt = options.clock.now();
  return {
    update: (counts) => {
      if (output.interactive) {
        task.update(`${label}: ${describe(counts)}`);
        return;
      }
      const now = options.clock.now();
      if (now - lastLineAt < LINE_INTERVAL_MS) return;
      lastLineAt = now;
      output.note(`${label}: ${describe(counts)}`);
    },
    succeed: (text) => { task.succeed(text); },
    fail: (text) => { task.fail(text); },
  };
}
