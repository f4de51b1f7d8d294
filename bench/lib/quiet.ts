/** What the end-to-end sections (e2e, throughput, workflow) run the CLI's operations with. */
import { Writable } from 'node:stream';
import { systemClock, type Clock } from '../../src/operations/wait-for-items.js';
import { Output } from '../../src/ui/output.js';

/** Output that keeps the last lines, to explain a failure, and prints nothing. */
export function quietOutput(): { output: Output; tail: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text = (text + chunk.toString('utf8')).slice(-4000);
      done();
    },
  });
  return { output: new Output({ json: false, debug: false, stdout: sink, stderr: sink, interactive: false }), tail: () => text };
}

/**
 * The upload command's wait loop backs off to 2 s between polls, which would round a run of a few seconds
 * up by as much; the bench caps the pause so the figure measures the pipeline rather than the poll.
 */
export function cappedClock(capMs: number): Clock {
  return { now: () => systemClock.now(), sleep: (ms) => systemClock.sleep(Math.min(ms, capMs)) };
}
