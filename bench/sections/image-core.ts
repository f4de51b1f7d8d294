/**
 * Image-core throughput: ours against bare sharp (the floor), the original design (Pillow), jimp, and the
 * naive one-pipeline-per-size way. Every engine lives in a long-lived worker; the parent asks for one timed
 * file at a time, every engine in turn, so all engines see the same machine weather.
 */
import type { Corpus } from '../lib/corpus.js';
import { ServeWorker, type WorkerCommand } from '../lib/children.js';
import type { EngineName, ServeConfig } from '../lib/engines.js';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import type { FileSets, Plan } from '../lib/plan.js';
import { formatMs, formatNumber, formatRatio, median, pairedRatio, shuffled } from '../lib/stats.js';

export const ONE_SIZE = 'Image core, 1 size (thumbnail=200x200, png, cover)';
export const THREE_SIZES_SECTION = 'Image core, 3 sizes (200, 800, 1600 px; png, cover)';

/** One-size target: ours costs at most this multiple of bare sharp. */
export const ONE_SIZE_TARGET = 1.15;
/** The original design's Pillow step takes at least this multiple of ours' time across the corpus. */
export const PILLOW_TARGET = 3;
/** Three sizes cost at most this multiple of the 1600 size alone. */
export const THREE_SIZES_TARGET = 1.3;

export type Availability<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface ImageCoreInputs {
  corpus: Corpus;
  plan: Plan;
  files: FileSets;
  node: WorkerCommand;
  core: Availability<string>;
  pillow: Availability<{ command: WorkerCommand; label: string }>;
  jimpVersion: string;
  log: (line: string) => void;
}

interface Task {
  key: string;
  worker: ServeWorker;
  engine: string;
  files: number[];
  warmup: number[];
  rounds: number;
  /** Per timed round: file index → milliseconds. */
  results: Map<number, number>[];
  failure?: string;
}

function totalOn(task: Task | undefined, round: number, subset: readonly number[]): number | undefined {
  const times = task?.results[round];
  if (!times) return undefined;
  let total = 0;
  for (const index of subset) {
    const ms = times.get(index);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

/** Per-round totals of `task` on `subset`, for the rounds where it and (when given) `pairedWith` both ran. */
function roundTotals(task: Task | undefined, subset: readonly number[], pairedWith?: Task): number[] {
  const totals: number[] = [];
  const rounds = Math.min(task?.results.length ?? 0, pairedWith ? pairedWith.results.length : Number.POSITIVE_INFINITY);
  for (let round = 0; round < rounds; round++) {
    const total = totalOn(task, round, subset);
    if (total !== undefined) totals.push(total);
  }
  return totals;
}

function rate(task: Task | undefined, subset: readonly number[]): number | undefined {
  const totals = roundTotals(task, subset);
  if (totals.length === 0 || subset.length === 0) return undefined;
  return (subset.length * 1000) / median(totals);
}

/** Median over the rounds both ran of time(a)/time(b) on the same files. */
function ratioOf(a: Task | undefined, b: Task | undefined, subset: readonly number[]): number | undefined {
  if (!a || !b || subset.length === 0) return undefined;
  const rounds = Math.min(a.results.length, b.results.length);
  const numerators: number[] = [];
  const denominators: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const x = totalOn(a, round, subset);
    const y = totalOn(b, round, subset);
    if (x !== undefined && y !== undefined) {
      numerators.push(x);
      denominators.push(y);
    }
  }
  return numerators.length === 0 ? undefined : pairedRatio(numerators, denominators);
}

function usable(task: Task | undefined): task is Task {
  return task !== undefined && task.failure === undefined && task.results.length > 0;
}

async function startWorker(
  label: string,
  command: WorkerCommand,
  config: unknown,
  log: (line: string) => void,
): Promise<Availability<ServeWorker>> {
  try {
    return { ok: true, value: await ServeWorker.start(label, command, 'serve', config) };
  } catch (error) {
    const reason = oneLine((error as Error).message, 160);
    log(`  ${label} could not start: ${reason}`);
    return { ok: false, reason };
  }
}

export async function benchImageCore(inputs: ImageCoreInputs): Promise<Figure[]> {
  const { corpus, plan, files, log } = inputs;
  const paths = corpus.files.map((f) => f.path);
  const workers: ServeWorker[] = [];
  const tasks = new Map<string, Task>();
  const reasons = new Map<string, string>();

  const addTask = (worker: ServeWorker, key: string, engine: string, subset: number[], warmup: number[], rounds: number): void => {
    tasks.set(key, { key, worker, engine, files: subset, warmup, rounds, results: [] });
  };

  try {
    // The sharp engines share one process, as they would share one Lambda; ours is left out when it cannot load.
    const sharpEngines: EngineName[] = ['bare-1', 'naive-3'];
    const oursEngines: EngineName[] = ['ours-1', 'ours-1600', 'ours-3'];
    let sharpWorker: Availability<ServeWorker> = { ok: false, reason: 'not started' };
    if (inputs.core.ok) {
      const config: ServeConfig = { files: paths, engines: [...sharpEngines, ...oursEngines], core: inputs.core.value };
      sharpWorker = await startWorker('sharp worker (with the image core)', inputs.node, config, log);
      if (!sharpWorker.ok) reasons.set('ours', `the image core failed to load: ${sharpWorker.reason}`);
    } else {
      reasons.set('ours', inputs.core.reason);
    }
    if (!sharpWorker.ok) {
      const config: ServeConfig = { files: paths, engines: sharpEngines };
      sharpWorker = await startWorker('sharp worker', inputs.node, config, log);
      if (!sharpWorker.ok) reasons.set('sharp', sharpWorker.reason);
    }
    if (sharpWorker.ok) {
      workers.push(sharpWorker.value);
      addTask(sharpWorker.value, 'bare-1', 'bare-1', files.sharp, files.sharp, plan.rounds);
      addTask(sharpWorker.value, 'naive-3', 'naive-3', files.sharp, files.sharp, plan.rounds);
      if (!reasons.has('ours')) {
        for (const engine of oursEngines) addTask(sharpWorker.value, engine, engine, files.sharp, files.sharp, plan.rounds);
      }
    }

    const jimpWorker = await startWorker('jimp worker', inputs.node, { files: paths, engines: ['jimp-1'] } satisfies ServeConfig, log);
    if (jimpWorker.ok) {
      workers.push(jimpWorker.value);
      addTask(jimpWorker.value, 'jimp-1', 'jimp-1', files.jimp, files.slowWarmup, plan.slowRounds);
    } else reasons.set('jimp-1', jimpWorker.reason);

    if (inputs.pillow.ok) {
      const pillowWorker = await startWorker('Pillow worker', inputs.pillow.value.command, { files: paths }, log);
      if (pillowWorker.ok) {
        workers.push(pillowWorker.value);
        addTask(pillowWorker.value, 'pillow-1', 'pillow-1', files.pillow, files.slowWarmup, plan.slowRounds);
      } else reasons.set('pillow-1', pillowWorker.reason);
    } else reasons.set('pillow-1', inputs.pillow.reason);

    const all = [...tasks.values()];
    const runPass = async (task: Task, subset: number[]): Promise<Map<number, number> | undefined> => {
      if (task.failure !== undefined) return undefined;
      try {
        const times = await task.worker.pass(task.engine, subset);
        return new Map(subset.map((index, i) => [index, times[i] ?? Number.NaN]));
      } catch (error) {
        task.failure = oneLine((error as Error).message, 160);
        log(`  ${task.key} failed: ${task.failure}`);
        return undefined;
      }
    };

    log(`Image core: warm-up of ${all.map((t) => t.key).join(', ')}`);
    for (const task of all) await runPass(task, task.warmup);
    // Interleaved file by file: every engine takes its turn on a file before the next file, in an order
    // shuffled per file and round, so a burst of load from other processes hits all engines alike.
    const totalRounds = Math.max(0, ...all.map((t) => t.rounds));
    const corpusOrder = [...new Set(all.flatMap((t) => t.files))].sort((a, b) => a - b);
    for (let round = 0; round < totalRounds; round++) {
      const active = all.filter((t) => round < t.rounds && t.failure === undefined);
      const current = new Map(active.map((t) => [t, new Map<number, number>()]));
      const started = performance.now();
      for (const index of corpusOrder) {
        const here = active.filter((t) => t.files.includes(index));
        for (const task of shuffled(here, round * 1009 + index)) {
          const times = await runPass(task, [index]);
          const ms = times?.get(index);
          if (ms !== undefined) current.get(task)?.set(index, ms);
        }
      }
      for (const [task, times] of current) if (task.failure === undefined) task.results.push(times);
      log(`Image core: round ${round + 1}/${totalRounds} (${active.map((t) => t.key).join(', ')}) in ${formatMs(performance.now() - started)}`);
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }

  return imageCoreFigures(inputs, tasks, reasons);
}

function imageCoreFigures(inputs: ImageCoreInputs, tasks: Map<string, Task>, reasons: Map<string, string>): Figure[] {
  const { files, plan } = inputs;
  const n = files.sharp.length;
  const why = (key: string): string =>
    tasks.get(key)?.failure ?? reasons.get(key) ?? reasons.get(key.startsWith('ours') ? 'ours' : 'sharp') ?? reasons.get('sharp') ?? 'did not run';
  const get = (key: string): Task | undefined => {
    const task = tasks.get(key);
    return usable(task) ? task : undefined;
  };
  const ours1 = get('ours-1');
  const ours1600 = get('ours-1600');
  const ours3 = get('ours-3');
  const bare = get('bare-1');
  const naive = get('naive-3');
  const pillow = get('pillow-1');
  const jimp = get('jimp-1');
  const rounds = `median of ${plan.rounds} passes after 1 warm-up`;
  const fileSet = plan.quick ? `the ${n} smallest corpus files` : `all ${n} corpus files`;
  const rateText = (r: number | undefined): string => (r === undefined ? 'n/a' : `${formatNumber(r)} img/s`);
  const ratioText = (ratio: number | undefined): string => (ratio === undefined ? 'n/a' : formatRatio(ratio));
  /** A row whose figure is a ratio of times, held to a ceiling. */
  const ratioAtMost = (section: string, name: string, ratio: number | undefined, ceiling: number, row: Pick<Figure, 'result' | 'target' | 'unit' | 'method'>): Figure =>
    figure(section, name, { ...row, pass: ratio === undefined ? undefined : ratio <= ceiling, value: ratio });
  const rows: Figure[] = [];

  // One size.
  const oursMethod = `processImage() on ${fileSet}, read into memory first; ${rounds}; engines interleaved file by file, order shuffled`;
  rows.push(
    ours1
      ? figure(ONE_SIZE, 'ours (image core)', { result: rateText(rate(ours1, files.sharp)), value: rate(ours1, files.sharp), unit: 'img/s', method: oursMethod })
      : notAvailable(ONE_SIZE, 'ours (image core)', why('ours-1'), oursMethod),
  );
  const bareMethod = `sharp(input).resize(200,200,{fit:'cover'}).png() on the same files in the same process; ratio = median over passes of time(ours)/time(bare)`;
  const bareTarget = `ours ≤ ${ONE_SIZE_TARGET}×`;
  if (bare) {
    const ratio = ratioOf(ours1, bare, files.sharp);
    rows.push(
      ratioAtMost(ONE_SIZE, 'bare sharp (the floor)', ratio, ONE_SIZE_TARGET, {
        result: `${rateText(rate(bare, files.sharp))} · ours ${ratioText(ratio)} its time`,
        target: bareTarget,
        unit: 'ratio ours/bare',
        method: bareMethod,
      }),
    );
  } else rows.push(notAvailable(ONE_SIZE, 'bare sharp (the floor)', why('bare-1'), bareMethod, bareTarget));

  const slowRounds = `${plan.slowRounds} pass${plan.slowRounds === 1 ? '' : 'es'} after a warm-up on ${files.slowWarmup.length} small file${files.slowWarmup.length === 1 ? '' : 's'}, interleaved with ours file by file`;
  const versus = (task: Task | undefined, subset: number[]): string => {
    const r = rate(task, subset);
    const ratio = ratioOf(task, ours1, subset);
    return `${rateText(r)} · ${ratio === undefined ? 'n/a (no ours)' : `${formatRatio(ratio)} ours' time`}`;
  };
  const pillowRatio = ratioOf(pillow, ours1, files.pillow);
  const pillowTarget = `Pillow ≥ ${PILLOW_TARGET}× ours`;
  const pillowLabel = inputs.pillow.ok ? inputs.pillow.value.label : 'Pillow';
  const pillowMethod = `${pillowLabel}: Image.open, resize((200,200)) (distorts), save PNG, from memory; ${files.pillow.length} files; ${slowRounds}; ratio vs ours on the same files`;
  rows.push(
    pillow
      ? figure(ONE_SIZE, 'Pillow (the original design)', {
          result: versus(pillow, files.pillow),
          target: pillowTarget,
          pass: pillowRatio === undefined ? undefined : pillowRatio >= PILLOW_TARGET,
          value: pillowRatio,
          unit: "ratio to ours' time",
          method: pillowMethod,
        })
      : notAvailable(ONE_SIZE, 'Pillow (the original design)', why('pillow-1'), pillowMethod, pillowTarget),
  );
  const jimpMethod = `jimp ${inputs.jimpVersion}: Jimp.read, cover(200x200), PNG; JPEG/PNG up to 2.5 MB (${files.jimp.length} files, jimp reads no WebP); ${slowRounds}`;
  rows.push(
    jimp
      ? figure(ONE_SIZE, 'jimp (pure JavaScript)', { result: versus(jimp, files.jimp), value: ratioOf(jimp, ours1, files.jimp), unit: "ratio to ours' time", method: jimpMethod })
      : notAvailable(ONE_SIZE, 'jimp (pure JavaScript)', why('jimp-1'), jimpMethod),
  );

  // Three sizes.
  const largeMethod = `processImage() with large=1600x1600 only, same files and passes as above`;
  rows.push(
    ours1600
      ? figure(THREE_SIZES_SECTION, 'ours, 1600 alone', { result: rateText(rate(ours1600, files.sharp)), value: rate(ours1600, files.sharp), unit: 'img/s', method: largeMethod })
      : notAvailable(THREE_SIZES_SECTION, 'ours, 1600 alone', why('ours-1600'), largeMethod),
  );
  const threeTarget = `≤ ${THREE_SIZES_TARGET}×`;
  const threeMethod = `processImage() with small=200x200,medium=800x800,large=1600x1600; ratio = median over passes of time(3 sizes)/time(1600 alone)`;
  if (ours3 && ours1600) {
    const ratio = ratioOf(ours3, ours1600, files.sharp);
    rows.push(
      ratioAtMost(THREE_SIZES_SECTION, 'ours, 3 sizes', ratio, THREE_SIZES_TARGET, {
        result: `${rateText(rate(ours3, files.sharp))} · ${ratioText(ratio)} the 1600 alone`,
        target: threeTarget,
        unit: 'ratio 3 sizes/1600',
        method: threeMethod,
      }),
    );
  } else rows.push(notAvailable(THREE_SIZES_SECTION, 'ours, 3 sizes', why('ours-3'), threeMethod, threeTarget));

  const largest = files.largest;
  const largestName = largest === undefined ? 'the largest photo' : (inputs.corpus.files[largest]?.name ?? 'the largest photo');
  const largestMethod = `the same passes, timed on ${largestName} (5640x3172 progressive JPEG, 16 MB) alone`;
  if (largest === undefined) {
    rows.push(notAvailable(THREE_SIZES_SECTION, 'ours, 3 sizes, largest photo', plan.quick ? 'full run only' : 'not in the corpus', largestMethod, threeTarget));
  } else if (ours3 && ours1600) {
    const ratio = ratioOf(ours3, ours1600, [largest]);
    const ms = roundTotals(ours3, [largest]);
    rows.push(
      ratioAtMost(THREE_SIZES_SECTION, 'ours, 3 sizes, largest photo', ratio, THREE_SIZES_TARGET, {
        result: `${ms.length ? formatMs(median(ms)) : 'n/a'} · ${ratioText(ratio)} the 1600 alone`,
        target: threeTarget,
        unit: 'ratio 3 sizes/1600',
        method: largestMethod,
      }),
    );
  } else rows.push(notAvailable(THREE_SIZES_SECTION, 'ours, 3 sizes, largest photo', why('ours-3'), largestMethod, threeTarget));

  const naiveMethod = `Promise.all of one sharp(input).rotate().resize(size, cover, withoutEnlargement).png() per size; ratios vs ours' 1600 alone`;
  if (naive) {
    const ratio = ratioOf(naive, ours1600, files.sharp);
    const onLargest = largest === undefined ? undefined : ratioOf(naive, ours1600, [largest]);
    const parts = [rateText(rate(naive, files.sharp))];
    if (ratio !== undefined) parts.push(`${formatRatio(ratio)} the 1600 alone`);
    if (onLargest !== undefined) parts.push(`largest photo ${formatRatio(onLargest)}`);
    rows.push(figure(THREE_SIZES_SECTION, 'naive, 3 sizes (a pipeline per size)', { result: parts.join(' · '), value: ratio, unit: 'ratio naive/1600', method: naiveMethod }));
  } else rows.push(notAvailable(THREE_SIZES_SECTION, 'naive, 3 sizes (a pipeline per size)', why('naive-3'), naiveMethod));

  return rows;
}
