/**
 * Peak memory of one process resizing the largest photograph: a fresh process per case (peak RSS only
 * grows, so processes cannot be reused), cases interleaved run by run, the median of the runs reported.
 * Nothing is subtracted; the idle baselines are rows of their own.
 */
import { runOnce, type WorkerCommand } from '../lib/children.js';
import type { CorpusFile } from '../lib/corpus.js';
import type { EngineName, PeakConfig } from '../lib/engines.js';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import type { Plan } from '../lib/plan.js';
import { formatMs, formatRssKib, median, rotate } from '../lib/stats.js';
import type { Availability } from './image-core.js';

export const MEMORY = 'Peak memory, one process, largest photo';
/** Ours with three sizes on the largest photo stays under this many MB (2^20 bytes) of peak RSS. */
export const MEMORY_TARGET_MB = 220;

export interface MemoryInputs {
  largest: CorpusFile | undefined;
  plan: Plan;
  node: WorkerCommand;
  core: Availability<string>;
  pillow: Availability<{ command: WorkerCommand; label: string }>;
  jimpVersion: string;
  log: (line: string) => void;
}

interface Case {
  name: string;
  method: string;
  /** Undefined when the case cannot run; `reason` says why. */
  command: WorkerCommand | undefined;
  config: PeakConfig | { file: string; engine: string };
  reason?: string;
  runs: number;
  target?: number;
  samples: { maxRssKib: number; ms: number }[];
  failure?: string;
}

export async function benchMemory(inputs: MemoryInputs): Promise<Figure[]> {
  const { largest, plan, node, core, log } = inputs;
  const file = largest?.path ?? '';
  const fresh = `peak RSS (VmHWM: the process's own high-water mark; getrusage's maxRSS would count the bench's memory at fork) of a fresh node`;
  const onFile = largest ? `${largest.name} (${(largest.bytes / 2 ** 20).toFixed(0)} MB, read into memory first)` : 'the largest photo';
  const nodeCase = (name: string, engine: EngineName, method: string, extra: Partial<Case> = {}): Case => {
    const needsCore = engine.startsWith('ours');
    return {
      name,
      method,
      command: needsCore && !core.ok ? undefined : node,
      config: { file, engine, ...(needsCore && core.ok ? { core: core.value } : {}) },
      ...(needsCore && !core.ok ? { reason: core.reason } : {}),
      runs: plan.memoryRuns,
      samples: [],
      ...extra,
    };
  };
  const runs = `median of ${plan.memoryRuns} process${plan.memoryRuns === 1 ? '' : 'es'}`;
  const cases: Case[] = [
    nodeCase('node, idle (baseline)', 'idle', `${fresh} that loads nothing; ${runs}`),
    nodeCase('node with sharp loaded, idle (baseline)', 'idle-sharp', `${fresh} that imports sharp and does nothing; ${runs}`),
    nodeCase('bare sharp, 1 size', 'bare-1', `${fresh}: sharp resize of ${onFile} to 200x200 png; ${runs}`),
    nodeCase('ours, 1 size', 'ours-1', `${fresh}: processImage() of ${onFile}, thumbnail=200x200 png; ${runs}`),
    nodeCase('ours, 3 sizes', 'ours-3', `${fresh}: processImage() of ${onFile}, 200/800/1600 png; ${runs}`, { target: MEMORY_TARGET_MB }),
    nodeCase('naive, 3 sizes', 'naive-3', `${fresh}: three sharp pipelines at once on ${onFile}; ${runs}`),
  ];
  if (inputs.pillow.ok) {
    const { command, label } = inputs.pillow.value;
    cases.push({
      name: 'python + Pillow, idle (baseline)',
      method: `peak RSS (VmHWM) of a fresh ${label} that imports Pillow and does nothing; ${runs}`,
      command,
      config: { file, engine: 'idle' },
      runs: plan.memoryRuns,
      samples: [],
    });
    cases.push({
      name: 'Pillow, 1 size (original design)',
      method: `peak RSS (VmHWM) of a fresh ${label}: open, resize((200,200)), save PNG of ${onFile}; ${runs}`,
      command,
      config: { file, engine: 'pillow-1' },
      runs: plan.memoryRuns,
      samples: [],
    });
  } else {
    cases.push({ name: 'Pillow, 1 size (original design)', method: 'peak RSS of a fresh python3 running the original design', command: undefined, config: { file, engine: 'pillow-1' }, reason: inputs.pillow.reason, runs: 0, samples: [] });
  }
  // jimp takes seconds and hundreds of MB on this photo: one process, and only in the full run.
  cases.push(
    nodeCase('jimp, 1 size', 'jimp-1', `${fresh}: jimp ${inputs.jimpVersion} read, cover(200x200), PNG of ${onFile}; 1 process (slow)`, {
      runs: plan.quick ? 0 : 1,
      ...(plan.quick ? { command: undefined, reason: 'full run only' } : {}),
    }),
  );

  if (!largest) return cases.map((c) => notAvailable(MEMORY, c.name, 'the largest photo is not in the corpus', c.method, targetText(c)));

  const maxRuns = Math.max(...cases.map((c) => c.runs));
  for (let run = 0; run < maxRuns; run++) {
    const active = cases.filter((c) => c.command !== undefined && c.failure === undefined && run < c.runs);
    for (const item of rotate(active, run)) {
      if (!item.command) continue;
      try {
        item.samples.push(await runOnce<{ maxRssKib: number; ms: number }>(item.command, 'peak', item.config));
      } catch (error) {
        item.failure = oneLine((error as Error).message, 160);
        log(`  ${item.name} failed: ${item.failure}`);
      }
    }
    log(`Peak memory: run ${run + 1}/${maxRuns} (${active.length} fresh processes)`);
  }

  return cases.map((item) => {
    if (item.samples.length === 0) return notAvailable(MEMORY, item.name, item.failure ?? item.reason ?? 'did not run', item.method, targetText(item));
    const kib = median(item.samples.map((s) => s.maxRssKib));
    const ms = median(item.samples.map((s) => s.ms));
    const mb = kib / 1024;
    const isIdle = item.name.includes('idle');
    return figure(MEMORY, item.name, {
      result: isIdle ? formatRssKib(kib) : `${formatRssKib(kib)} (${formatMs(ms)})`,
      target: targetText(item),
      pass: item.target === undefined ? undefined : mb < item.target,
      value: mb,
      unit: 'MB peak RSS',
      method: item.method,
    });
  });
}

function targetText(item: Case): string {
  return item.target === undefined ? '' : `< ${item.target} MB`;
}
