/**
 * Direct trigger versus the Step Functions workflow, end to end on the local stack: two stacks in one MiniStack
 * of the bench's own (one per mode), the same photo uploaded with `upload --wait` to each in turn, one at a
 * time, so each sample is one image's latency from upload to its SUCCEEDED item. Emulator figures: the ratio
 * says how much the EventBridge hop and the state transitions add here, not on AWS.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { localTarget } from '../../src/aws/target.js';
import { AppContext } from '../../src/context.js';
import { freePort, startLocalStack, stopLocalStack } from '../../src/local/ministack.js';
import { ensureCorpus } from '../lib/corpus.js';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import type { Plan } from '../lib/plan.js';
import { smallest } from '../lib/plan.js';
import { cappedClock, quietOutput } from '../lib/quiet.js';
import { formatMs, median } from '../lib/stats.js';

export const WORKFLOW = 'Orchestration latency, local stack (emulator figures, not AWS)';

const POLL_CAP_MS = 50;

export async function benchWorkflow(plan: Plan, log: (line: string) => void, corpusDir?: string): Promise<Figure[]> {
  const samples = plan.quick ? 3 : 10;
  const method = `one photo at a time, runUpload({ wait: true }) to a direct stack and a stepfunctions (Express) stack in turn, poll pause capped at ${POLL_CAP_MS} ms; after a warm-up upload to each; median of ${samples} per mode`;
  const names = { direct: 'direct trigger, upload → SUCCEEDED item', flow: 'stepfunctions (Express), upload → SUCCEEDED item' };
  if (!plan.e2e) return [notAvailable(WORKFLOW, names.direct, 'skipped (--no-e2e)', method), notAvailable(WORKFLOW, names.flow, 'skipped (--no-e2e)', method)];
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bench-flow-'));
  const contexts: AppContext[] = [];
  let step = 'starting the local stack';
  try {
    const corpus = await ensureCorpus(corpusDir, log);
    const photo = corpus.files[smallest(corpus.files, 1)[0] ?? 0];
    if (!photo) throw new Error('no photos');
    log('Orchestration: starting a MiniStack of the bench\'s own …');
    const stack = await startLocalStack({ stateDir, port: await freePort(), persist: false, startTimeoutMs: 120_000 });
    const { runInit } = await import('../../src/operations/init.js');
    const { runUpload } = await import('../../src/commands/upload.js');
    const deploy = async (mode: 'direct' | 'stepfunctions'): Promise<AppContext> => {
      const cwd = path.join(stateDir, mode);
      await mkdir(cwd, { recursive: true });
      const context = new AppContext({ yes: true }, { output: quietOutput().output, cwd, target: localTarget(stack.endpoint, {}) });
      contexts.push(context);
      step = `init ${mode}`;
      const result = await runInit(context, { stackName: mode === 'direct' ? 'benchdirect' : 'benchflow', orchestration: mode });
      if (result.exitCode !== 0) throw new Error(`init ${mode} failed`);
      return context;
    };
    const direct = await deploy('direct');
    const flow = await deploy('stepfunctions');
    const once = async (context: AppContext, prefix: string): Promise<number> => {
      const t0 = performance.now();
      const upload = await runUpload(context, { paths: [photo.path], prefix, wait: true, timeoutSeconds: 120, clock: cappedClock(POLL_CAP_MS) });
      if (upload.report.files[0]?.outcome !== 'SUCCEEDED') throw new Error(`upload: ${upload.report.files[0]?.reason ?? upload.report.files[0]?.outcome ?? '?'}`);
      return performance.now() - t0;
    };
    step = 'warm-up';
    await once(direct, 'warmup');
    await once(flow, 'warmup');
    const times = { direct: [] as number[], flow: [] as number[] };
    for (let run = 0; run < samples; run++) {
      step = `run ${run + 1}`;
      // Alternate which mode goes first, so drift in the machine's load falls on both alike.
      const order = run % 2 === 0 ? (['direct', 'flow'] as const) : (['flow', 'direct'] as const);
      for (const mode of order) times[mode].push(await once(mode === 'direct' ? direct : flow, `run-${run}`));
    }
    const [d, f] = [median(times.direct), median(times.flow)];
    log(`Orchestration: direct ${formatMs(d)}, stepfunctions ${formatMs(f)} per image`);
    return [
      figure(WORKFLOW, names.direct, { result: formatMs(d), value: d, unit: 'ms', method }),
      figure(WORKFLOW, names.flow, { result: `${formatMs(f)} · ${(f / d).toFixed(2)}× direct`, value: f, unit: 'ms', method }),
    ];
  } catch (error) {
    const reason = `${step}: ${oneLine((error as Error).message, 120)}`;
    log(`Orchestration bench failed at ${reason}`);
    return [notAvailable(WORKFLOW, names.direct, reason, method), notAvailable(WORKFLOW, names.flow, reason, method)];
  } finally {
    for (const context of contexts) context.close();
    await stopLocalStack(stateDir).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
}
