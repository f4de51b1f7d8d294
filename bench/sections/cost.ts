/**
 * The cost model: what an image costs on Lambda, where CPU comes in proportion to memory. The function's
 * processing (processRecord with S3 and DynamoDB replaced by in-memory ports: no network, no emulator) runs in a
 * child process inside a CPU quota of memory/1769 of one CPU, for each memory size; the original design's Pillow
 * step runs the same way at 512 and 1024 MB. Workers at one memory size take turns file by file.
 */
import { createCpuQuota, MB_PER_VCPU, type CpuQuota } from '../lib/cgroup.js';
import { ServeWorker, type WorkerCommand } from '../lib/children.js';
import type { Corpus } from '../lib/corpus.js';
import type { ServeConfig } from '../lib/engines.js';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import type { FileSets, Plan } from '../lib/plan.js';
import { median } from '../lib/stats.js';
import type { Availability } from './image-core.js';
import { dollarsPerMillion, LAMBDA_PRICES } from '../../src/pricing.js';

export const COST = 'Cost model: Lambda CPU share (cgroup CPU quota = memory/1769 of a CPU), per image';

export const MEMORY_SIZES = [512, 1024, 1769, 3008] as const;
export const PILLOW_MEMORY_SIZES = [512, 1024] as const;

/** The list prices live with the CLI (`tune` uses them too); re-exported for the bench's own use. */
export { LAMBDA_PRICES };

/** libvips threads per image (sharp.concurrency) and libuv's pool (UV_THREADPOOL_SIZE) tried at every memory size. */
export const THREAD_SETTINGS = [
  { vips: 1, uv: 1 },
  { vips: 2, uv: 4 },
] as const;

export interface CostInputs {
  corpus: Corpus;
  plan: Plan;
  files: FileSets;
  node: WorkerCommand;
  core: Availability<string>;
  pillow: Availability<{ command: WorkerCommand; label: string }>;
  log: (line: string) => void;
}

export interface CostFigure {
  memoryMb: number;
  /** Mean billed milliseconds per image (each invocation rounded up to 1 ms, as Lambda bills). */
  msPerImage: number;
  gbSecondsPerImage: number;
  x86PerMillion: number;
  arm64PerMillion: number;
}

/** Billed duration and dollars per million images at `memoryMb` for per-image times `ms`. */
export function costOf(memoryMb: number, ms: readonly number[]): CostFigure {
  const billedMs = ms.reduce((total, value) => total + Math.max(1, Math.ceil(value)), 0) / ms.length;
  const gbSecondsPerImage = (memoryMb / 1024) * (billedMs / 1000);
  return {
    memoryMb,
    msPerImage: billedMs,
    gbSecondsPerImage,
    x86PerMillion: dollarsPerMillion(memoryMb, billedMs, 'x86_64'),
    arm64PerMillion: dollarsPerMillion(memoryMb, billedMs, 'arm64'),
  };
}

export function formatCost(cost: CostFigure): string {
  return `${cost.msPerImage.toFixed(0)} ms/img · ${cost.gbSecondsPerImage.toFixed(4)} GB-s/img · $${cost.x86PerMillion.toFixed(2)}/M x86_64 · $${cost.arm64PerMillion.toFixed(2)}/M arm64`;
}

interface Lane {
  label: string;
  engine: string;
  quota: CpuQuota;
  worker: ServeWorker;
  /** Per timed pass: ms per file, in file order. */
  passes: number[][];
  failure?: string;
}

interface Measured {
  label: string;
  memoryMb: number;
  vips?: number;
  uv?: number;
  cost?: CostFigure;
  reason?: string;
  throttledShare?: number;
}

async function startLane(
  label: string,
  engine: string,
  memoryMb: number,
  command: WorkerCommand,
  config: unknown,
  log: (line: string) => void,
): Promise<Availability<Lane>> {
  let quota: CpuQuota;
  try {
    quota = await createCpuQuota(`img-resizer-bench-${process.pid}-${memoryMb}-${engine}-${label.replace(/\W+/g, '-')}`, memoryMb / MB_PER_VCPU);
  } catch (error) {
    return { ok: false, reason: `no CPU quota: ${oneLine((error as Error).message, 120)}` };
  }
  try {
    const worker = await ServeWorker.start(label, quota.wrap(command), 'serve', config, 300_000);
    return { ok: true, value: { label, engine, quota, worker, passes: [] } };
  } catch (error) {
    await quota.remove();
    const reason = oneLine((error as Error).message, 140);
    log(`  ${label} could not start: ${reason}`);
    return { ok: false, reason };
  }
}

export async function benchCost(inputs: CostInputs): Promise<{ rows: Figure[]; chosen: Measured | undefined }> {
  const { corpus, plan, files, log } = inputs;
  const paths = corpus.files.map((f) => f.path);
  const subset = files.sharp;
  const pillowSubset = files.pillow;
  const passes = plan.quick ? 1 : 2;
  const measured: Measured[] = [];
  let quotaKind = 'cgroup';

  for (const memoryMb of MEMORY_SIZES) {
    const lanes: Lane[] = [];
    try {
      for (const threads of THREAD_SETTINGS) {
        const label = `ours ${memoryMb} MB vips ${threads.vips} uv ${threads.uv}`;
        if (!inputs.core.ok) {
          measured.push({ label, memoryMb, ...threads, reason: inputs.core.reason });
          continue;
        }
        const config: ServeConfig = { files: paths, engines: ['handler-1'], core: inputs.core.value, sharpConcurrency: threads.vips };
        const env = { ...process.env, ...inputs.node.env, UV_THREADPOOL_SIZE: String(threads.uv), MALLOC_ARENA_MAX: '2' };
        const lane = await startLane(label, 'handler-1', memoryMb, { ...inputs.node, env }, config, log);
        if (lane.ok) {
          lanes.push(lane.value);
          quotaKind = lane.value.quota.kind;
        } else measured.push({ label, memoryMb, ...threads, reason: lane.reason });
      }
      if ((PILLOW_MEMORY_SIZES as readonly number[]).includes(memoryMb)) {
        const label = `pillow ${memoryMb} MB`;
        if (inputs.pillow.ok) {
          const lane = await startLane(label, 'pillow-1', memoryMb, inputs.pillow.value.command, { files: paths }, log);
          if (lane.ok) lanes.push(lane.value);
          else measured.push({ label, memoryMb, reason: lane.reason });
        } else measured.push({ label, memoryMb, reason: inputs.pillow.reason });
      }

      // A warm container: one untimed pass on the small warm-up files, then timed passes, lanes taking turns per file.
      for (const lane of lanes) {
        await lane.worker.pass(lane.engine, files.slowWarmup).catch((error: unknown) => {
          lane.failure = oneLine((error as Error).message, 140);
        });
      }
      const before = new Map<Lane, { periods: number; throttled: number }>();
      for (const lane of lanes) before.set(lane, await lane.quota.throttled());
      const started = performance.now();
      for (let pass = 0; pass < passes; pass++) {
        const current = new Map(lanes.map((lane) => [lane, [] as number[]]));
        for (const index of subset) {
          for (const lane of lanes) {
            if (lane.failure !== undefined) continue;
            if (lane.engine === 'pillow-1' && !pillowSubset.includes(index)) continue;
            try {
              const [ms] = await lane.worker.pass(lane.engine, [index]);
              current.get(lane)?.push(ms ?? Number.NaN);
            } catch (error) {
              lane.failure = oneLine((error as Error).message, 140);
              log(`  ${lane.label} failed: ${lane.failure}`);
            }
          }
        }
        for (const [lane, times] of current) if (lane.failure === undefined) lane.passes.push(times);
      }
      log(`Cost model: ${memoryMb} MB (${lanes.map((l) => l.label).join(', ')}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      for (const lane of lanes) {
        const start = before.get(lane) ?? { periods: 0, throttled: 0 };
        const end = await lane.quota.throttled();
        const periods = end.periods - start.periods;
        const throttledShare = periods > 0 ? (end.throttled - start.throttled) / periods : undefined;
        const threads = THREAD_SETTINGS.find((t) => lane.label.endsWith(`vips ${t.vips} uv ${t.uv}`));
        const perFile = lane.passes[0]?.map((_, i) => median(lane.passes.map((p) => p[i] ?? Number.NaN))) ?? [];
        measured.push({
          label: lane.label,
          memoryMb,
          ...(threads ? { vips: threads.vips, uv: threads.uv } : {}),
          ...(lane.failure !== undefined || perFile.length === 0 ? { reason: lane.failure ?? 'no passes' } : { cost: costOf(memoryMb, perFile) }),
          ...(throttledShare === undefined ? {} : { throttledShare }),
        });
      }
    } finally {
      for (const lane of lanes) {
        await lane.worker.close();
        await lane.quota.remove();
      }
    }
  }
  return costFigures(inputs, measured, quotaKind, passes);
}

function costFigures(inputs: CostInputs, measured: Measured[], quotaKind: string, passes: number): { rows: Figure[]; chosen: Measured | undefined } {
  const { files, plan } = inputs;
  const rows: Figure[] = [];
  const fileSet = plan.quick ? `the ${files.sharp.length} smallest corpus files` : `all ${files.sharp.length} corpus files`;
  const prices = `list prices ${LAMBDA_PRICES.date} (${LAMBDA_PRICES.source}, us-east-1): $${LAMBDA_PRICES.x86PerGbSecond}/GB-s x86_64, $${LAMBDA_PRICES.arm64PerGbSecond}/GB-s arm64, +$${LAMBDA_PRICES.perMillionRequests}/M requests`;
  const ours = measured.filter((m) => m.label.startsWith('ours'));
  const pillow = measured.filter((m) => m.label.startsWith('pillow'));
  for (const m of ours) {
    const name = `ours, ${m.memoryMb} MB, libvips ${m.vips ?? '?'} thread${m.vips === 1 ? '' : 's'}, UV pool ${m.uv ?? '?'}`;
    const method = `processRecord() (default settings: thumbnail=200x200 png cover) with in-memory S3/DynamoDB ports, in a ${quotaKind} quota of ${(m.memoryMb / MB_PER_VCPU).toFixed(2)} CPU${
      m.throttledShare === undefined ? '' : ` (throttled in ${(m.throttledShare * 100).toFixed(0)}% of periods)`
    }; mean billed ms over ${fileSet}, median of ${passes} pass${passes === 1 ? '' : 'es'} after a warm-up; ${prices}`;
    rows.push(
      m.cost
        ? figure(COST, name, { result: formatCost(m.cost), value: m.cost.x86PerMillion, unit: '$ per million images, x86_64', method })
        : notAvailable(COST, name, m.reason ?? 'did not run', method),
    );
  }
  const pillowLabel = inputs.pillow.ok ? inputs.pillow.value.label : 'Pillow';
  for (const m of pillow) {
    const name = `Pillow (the original design), ${m.memoryMb} MB`;
    const best = ours.filter((o) => o.memoryMb === m.memoryMb && o.cost).sort((a, b) => (a.cost?.msPerImage ?? 0) - (b.cost?.msPerImage ?? 0))[0];
    const method = `${pillowLabel}: Image.open, resize((200,200)), save PNG (the original function's image code), same quota, files and passes, taking turns with ours file by file${
      m.throttledShare === undefined ? '' : ` (throttled in ${(m.throttledShare * 100).toFixed(0)}% of periods)`
    }`;
    if (m.cost) {
      const ratio = best?.cost ? m.cost.msPerImage / best.cost.msPerImage : undefined;
      rows.push(
        figure(COST, name, {
          result: `${formatCost(m.cost)}${ratio === undefined ? '' : ` · ${ratio.toFixed(2)}× ours' cost`}`,
          value: m.cost.x86PerMillion,
          unit: '$ per million images, x86_64',
          method,
        }),
      );
    } else rows.push(notAvailable(COST, name, m.reason ?? 'did not run', method));
  }
  const chosen = chooseDefault(ours);
  const choiceMethod =
    'the cheapest x86_64 cost per million among the rows above; among settings within 5% of it, the fastest (lower latency for the same bill)';
  rows.push(
    chosen?.cost
      ? figure(COST, 'default chosen from these figures', {
          result: `${chosen.memoryMb} MB, libvips ${chosen.vips ?? '?'} thread(s), UV pool ${chosen.uv ?? '?'}: ${formatCost(chosen.cost)}`,
          value: chosen.cost.x86PerMillion,
          unit: '$ per million images, x86_64',
          method: choiceMethod,
        })
      : notAvailable(COST, 'default chosen from these figures', 'no cost figures', choiceMethod),
  );
  return { rows, chosen };
}

/** The cheapest setting, or the fastest of those within 5% of the cheapest. */
export function chooseDefault<T extends { cost?: CostFigure | undefined }>(candidates: readonly T[]): T | undefined {
  const priced = candidates.filter((c) => c.cost !== undefined);
  if (priced.length === 0) return undefined;
  const cheapest = Math.min(...priced.map((c) => c.cost?.x86PerMillion ?? Number.POSITIVE_INFINITY));
  return priced
    .filter((c) => (c.cost?.x86PerMillion ?? Number.POSITIVE_INFINITY) <= cheapest * 1.05)
    .sort((a, b) => (a.cost?.msPerImage ?? 0) - (b.cost?.msPerImage ?? 0))[0];
}
