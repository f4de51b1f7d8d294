/**
 * End to end on the local stack: a MiniStack of the bench's own, `init` deploying the real function and layer,
 * then `upload --wait` of N photographs and `backfill --force` at concurrency 1 and 8, through the same
 * functions the commands call. Everything it starts it stops.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { localTarget } from '../../src/aws/target.js';
import { AppContext } from '../../src/context.js';
import { freePort, startLocalStack, stopLocalStack } from '../../src/local/ministack.js';
import { ensureCorpus, type CorpusFile } from '../lib/corpus.js';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import type { Plan } from '../lib/plan.js';
import { smallest } from '../lib/plan.js';
import { cappedClock, quietOutput } from '../lib/quiet.js';
import { formatMs, formatNumber, median, rotate } from '../lib/stats.js';

export const E2E = 'End to end, local stack (MiniStack; function runs on the host node)';

/** The upload's poll pause is capped at this, so the figure measures the pipeline rather than the poll. */
const POLL_CAP_MS = 100;

/** The upload command's default parallelism. */
const WARMUP_PHOTOS = 4;

interface Sample {
  ms: number;
  objects: number;
}

function throughput(samples: readonly Sample[]): number {
  return (median(samples.map((s) => s.objects)) * 1000) / median(samples.map((s) => s.ms));
}

export async function benchEndToEnd(plan: Plan, log: (line: string) => void, corpusDir?: string): Promise<Figure[]> {
  const uploadName = 'upload --wait';
  const c1Name = 'backfill --force, concurrency 1';
  const c8Name = 'backfill --force, concurrency 8';
  const settings = 'init defaults (thumbnail=200x200 png)';
  const runs = (n: number): string => `median of ${n} run${n === 1 ? '' : 's'}`;
  const runCount = plan.e2e?.runs ?? 0;
  const uploadMethod = (which: string): string =>
    `runUpload({ wait: true }) of ${which} until every item is SUCCEEDED, its poll pause capped at ${POLL_CAP_MS} ms; ${settings}; after a ${WARMUP_PHOTOS}-photo warm-up; ${runs(runCount)}`;
  const backfillMethod = (c: number, count: number | string): string =>
    `runBackfill() over those ${count} objects: list, batch-check, ${c} synchronous invoke${c === 1 ? '' : 's'} at a time, read items back; whole command timed; ${runs(runCount)}, c1/c8 interleaved`;
  const unavailable = (reason: string): Figure[] => [
    notAvailable(E2E, uploadName, reason, uploadMethod(`${plan.e2e?.photos ?? 'N'} corpus photos`)),
    notAvailable(E2E, c1Name, reason, backfillMethod(1, 'N')),
    notAvailable(E2E, c8Name, reason, backfillMethod(8, 'N')),
  ];
  if (!plan.e2e) return unavailable('skipped (--no-e2e)');

  let files: CorpusFile[];
  let which: string;
  try {
    const corpus = await ensureCorpus(corpusDir, log);
    files = smallest(corpus.files, plan.e2e.photos).map((i) => corpus.files[i]).filter((f): f is CorpusFile => f !== undefined);
    const megabytes = (files.reduce((total, f) => total + f.bytes, 0) / 2 ** 20).toFixed(0);
    which = files.length === corpus.files.length ? `all ${files.length} corpus photos (${megabytes} MB)` : `the ${files.length} smallest corpus photos (${megabytes} MB)`;
  } catch (error) {
    return unavailable(`no corpus: ${(error as Error).message}`);
  }
  // As many photos as the upload sends at once, so MiniStack has warm workers for all of them.
  const warmupFiles = files.slice(0, WARMUP_PHOTOS);
  if (warmupFiles.length === 0) return unavailable('no photos');

  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bench-stack-'));
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bench-cwd-'));
  const { output, tail } = quietOutput();
  let context: AppContext | undefined;
  let step = 'starting the local stack';
  // MiniStack runs in a process group of its own, so Ctrl-C does not reach it: stop it before leaving.
  const onInterrupt = (): void => {
    void stopLocalStack(stateDir)
      .then(() => Promise.all([rm(stateDir, { recursive: true, force: true }), rm(cwd, { recursive: true, force: true })]))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  try {
    const started = performance.now();
    log('End to end: starting a MiniStack of the bench\'s own …');
    const stack = await startLocalStack({ stateDir, port: await freePort(), persist: false, startTimeoutMs: 120_000 });
    context = new AppContext({ yes: true }, { output, cwd, target: localTarget(stack.endpoint, {}) });
    step = 'init';
    const { runInit } = await import('../../src/operations/init.js');
    const { runUpload } = await import('../../src/commands/upload.js');
    const { runBackfill } = await import('../../src/commands/backfill.js');
    await runInit(context, {});
    log(`End to end: stack up and deployed in ${formatMs(performance.now() - started)}`);

    step = 'warm-up upload';
    const warm = await runUpload(context, { paths: warmupFiles.map((f) => f.path), prefix: 'bench/warmup/', wait: true, timeoutSeconds: 120 });
    if (warm.exitCode !== 0) throw new Error(`warm-up upload failed: ${warm.report.files.map((f) => f.reason ?? f.outcome).join('; ')}`);

    const uploads: Sample[] = [];
    const backfills = new Map<number, Sample[]>([[1, []], [8, []]]);
    for (let run = 0; run < plan.e2e.runs; run++) {
      step = `upload run ${run + 1}`;
      const prefix = `bench/run-${run}/`;
      const t0 = performance.now();
      const upload = await runUpload(context, { paths: files.map((f) => f.path), prefix, wait: true, timeoutSeconds: 300, clock: cappedClock(POLL_CAP_MS) });
      const ms = performance.now() - t0;
      const bad = upload.report.files.filter((f) => f.outcome !== 'SUCCEEDED');
      if (bad.length > 0) throw new Error(`upload: ${bad.length} not SUCCEEDED (${bad[0]?.key ?? ''}: ${bad[0]?.reason ?? bad[0]?.outcome ?? ''})`);
      uploads.push({ ms, objects: files.length });
      log(`End to end: upload run ${run + 1}/${plan.e2e.runs}: ${files.length} photos in ${formatMs(ms)}`);

      for (const concurrency of rotate([1, 8], run)) {
        step = `backfill run ${run + 1} at concurrency ${concurrency}`;
        const t1 = performance.now();
        const backfill = await runBackfill(context, { prefix, force: true, concurrency });
        const elapsed = performance.now() - t1;
        const { report } = backfill;
        if (report.failed.length > 0 || report.succeeded !== files.length) {
          throw new Error(`backfill: ${report.succeeded}/${files.length} succeeded${report.failed[0] ? ` (${report.failed[0].key}: ${report.failed[0].reason})` : ''}`);
        }
        backfills.get(concurrency)?.push({ ms: elapsed, objects: report.processed });
        log(`End to end: backfill c${concurrency}: ${report.processed} objects in ${formatMs(elapsed)}`);
      }
    }

    const c1 = backfills.get(1) ?? [];
    const c8 = backfills.get(8) ?? [];
    const rateText = (samples: Sample[], unit: string): string => `${formatNumber(throughput(samples))} ${unit}/s (${formatMs(median(samples.map((s) => s.ms)))} for ${files.length})`;
    return [
      figure(E2E, uploadName, { result: rateText(uploads, 'img'), value: throughput(uploads), unit: 'img/s', method: uploadMethod(which) }),
      figure(E2E, c1Name, { result: rateText(c1, 'obj'), value: throughput(c1), unit: 'objects/s', method: backfillMethod(1, files.length) }),
      figure(E2E, c8Name, {
        result: `${rateText(c8, 'obj')} · ${(throughput(c8) / throughput(c1)).toFixed(2)}× concurrency 1`,
        value: throughput(c8),
        unit: 'objects/s',
        method: backfillMethod(8, files.length),
      }),
    ];
  } catch (error) {
    const reason = `${step}: ${oneLine((error as Error).message, 120)}`;
    log(`End to end failed at ${reason}\n${tail().trim().split('\n').slice(-5).join('\n')}`);
    return unavailable(reason);
  } finally {
    process.off('SIGINT', onInterrupt);
    context?.close();
    await stopLocalStack(stateDir).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  }
}
