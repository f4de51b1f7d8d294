/**
 * `npm run bench`: the figures that say how fast and how lean img-resizer is, measured side by side with
 * the alternatives in one run and printed as one table, each with the method beside it.
 *
 *   npm run bench                      full run (under ten minutes)
 *   npm run bench -- --quick           under a minute: fewer files and passes, a tiny end-to-end run
 *   npm run bench -- --json            the figures as JSON on stdout (progress stays on stderr)
 *   npm run bench -- --write-results   also write bench/RESULTS.md (full run only)
 *   --corpus DIR   use these images instead of the fetched corpus
 *   --only LIST    image,progressive,cost,memory,insight,pixel-limit,artifacts,e2e,startup,workflow,throughput (default all)
 *   --no-e2e       skip the end-to-end parts (e2e and throughput each start a MiniStack of their own)
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleImageCore, bundleWorker } from './lib/bundle.js';
import type { WorkerCommand } from './lib/children.js';
import { ensureCorpus, LARGEST_PHOTO, REPO_ROOT, type Corpus } from './lib/corpus.js';
import { notAvailable, oneLine, renderMarkdownTable, renderTextTable, type Figure } from './lib/figures.js';
import { describeMachine, machineInfo, type MachineInfo } from './lib/machine.js';
import { ensurePillow } from './lib/pillow.js';
import { chooseFiles, makePlan, type Plan } from './lib/plan.js';
import { formatMs } from './lib/stats.js';
import { benchArtifacts } from './sections/artifacts.js';
import { benchCost, COST } from './sections/cost.js';
import { benchProgressive, PROGRESSIVE } from './sections/progressive.js';
import { benchEndToEnd } from './sections/e2e.js';
import { benchImageCore, ONE_SIZE, THREE_SIZES_SECTION, type Availability } from './sections/image-core.js';
import { benchInsight, INSIGHT } from './sections/insight.js';
import { benchMemory, MEMORY } from './sections/memory.js';
import { benchPixelLimit } from './sections/pixel-limit.js';
import { benchFirstRequest, benchStartup, startupSection, type BenchNode } from './sections/startup.js';
import { installNodeRuntime } from '../src/local/node-runtime.js';

/** The Node.js LTS that CI runs the CLI on besides the machine's (.ci/run). */
const NEWEST_LTS_MAJOR = 24;
import { benchThroughput } from './sections/throughput.js';
import { benchWorkflow } from './sections/workflow.js';

const PARTS = ['image', 'progressive', 'cost', 'memory', 'insight', 'pixel-limit', 'artifacts', 'e2e', 'startup', 'workflow', 'throughput'] as const;
type Part = (typeof PARTS)[number];

export const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'RESULTS.md');

interface Options {
  quick: boolean;
  json: boolean;
  writeResults: boolean;
  corpus: string | undefined;
  only: Set<Part>;
  e2e: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'write-results': { type: 'boolean', default: false },
      corpus: { type: 'string' },
      only: { type: 'string' },
      'no-e2e': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      `Usage: npm run bench -- [--quick] [--json] [--write-results] [--corpus DIR] [--only ${PARTS.join(',')}] [--no-e2e]\n`,
    );
    process.exit(0);
  }
  const only = new Set<Part>();
  for (const name of (values.only ?? PARTS.join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(PARTS as readonly string[]).includes(name)) throw new Error(`--only: unknown part "${name}" (parts: ${PARTS.join(', ')})`);
    only.add(name as Part);
  }
  return {
    quick: values.quick,
    json: values.json,
    writeResults: values['write-results'],
    corpus: values.corpus === undefined ? undefined : path.resolve(values.corpus),
    only,
    e2e: !values['no-e2e'],
  };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function attempt<T>(what: string, work: () => Promise<T>): Promise<Availability<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    const reason = oneLine(error instanceof Error ? error.message : String(error), 140);
    log(`  ${what}: ${reason}`);
    return { ok: false, reason };
  }
}

/**
 * The Nodes the CLI's start-up is timed on: the machine's, and the newest LTS as nodejs.org builds it (the one CI
 * also runs the CLI on, installed into the cache by src/local/node-runtime.ts), when it is not the machine's.
 */
async function startupNodes(): Promise<BenchNode[]> {
  const machine: BenchNode = { path: process.execPath, label: `${process.version}, the machine's` };
  const lts = await attempt(`Node.js ${NEWEST_LTS_MAJOR}`, () => installNodeRuntime(NEWEST_LTS_MAJOR));
  if (!lts.ok || `v${lts.value.version}` === process.version) return [machine];
  return [machine, { path: lts.value.node, label: `v${lts.value.version}, the newest LTS (nodejs.org's build)` }];
}

/** Rows for the image parts when there is nothing to measure them on. */
function imageRowsUnavailable(reason: string, parts: Set<Part>): Figure[] {
  const rows: Figure[] = [];
  if (parts.has('image')) {
    rows.push(notAvailable(ONE_SIZE, 'image core, 1 size', reason, 'needs the photo corpus'));
    rows.push(notAvailable(THREE_SIZES_SECTION, 'image core, 3 sizes', reason, 'needs the photo corpus'));
  }
  if (parts.has('progressive')) rows.push(notAvailable(PROGRESSIVE, 'DC scans vs today\'s path', reason, 'needs the photo corpus'));
  if (parts.has('cost')) rows.push(notAvailable(COST, 'cost per image', reason, 'needs the photo corpus'));
  if (parts.has('memory')) rows.push(notAvailable(MEMORY, 'peak memory', reason, 'needs the photo corpus'));
  if (parts.has('insight')) rows.push(notAvailable(INSIGHT, 'added time', reason, 'needs the photo corpus'));
  return rows;
}

async function imageParts(options: Options, plan: Plan, machine: MachineInfo): Promise<Figure[]> {
  const corpus: Availability<Corpus> = await attempt('corpus', () => ensureCorpus(options.corpus, log));
  if (!corpus.ok) return imageRowsUnavailable(`no corpus: ${corpus.reason}`, options.only);
  log(`Corpus: ${corpus.value.files.length} files in ${corpus.value.dir} (${corpus.value.origin})`);
  const insightRows: Figure[] = [];
  if (options.only.has('insight')) {
    const files = chooseFiles(corpus.value.files, plan).sharp.flatMap((index) => corpus.value.files[index] ?? []);
    insightRows.push(...(await benchInsight({ files, plan, log })));
    if (!['image', 'progressive', 'cost', 'memory'].some((part) => options.only.has(part as Part))) return insightRows;
  }

  const workerFile = await attempt('bundling the bench worker', bundleWorker);
  if (!workerFile.ok) return imageRowsUnavailable(`worker did not build: ${workerFile.reason}`, options.only);
  const core = await attempt('image core', bundleImageCore);
  const pillowRuntime = await attempt('Pillow', () => ensurePillow(log));
  if (pillowRuntime.ok) {
    machine.pillow = pillowRuntime.value.pillowVersion;
    machine.python = `Python ${pillowRuntime.value.pythonVersion}`;
  } else machine.pillow = `n/a (${pillowRuntime.reason})`;

  // A plain node: the bench itself runs under a TypeScript loader the workers must not carry.
  const node: WorkerCommand = { command: process.execPath, args: ['--expose-gc', workerFile.value] };
  const pillow: Availability<{ command: WorkerCommand; label: string }> = pillowRuntime.ok
    ? {
        ok: true,
        value: {
          command: {
            command: pillowRuntime.value.python,
            args: [path.join(REPO_ROOT, 'bench', 'workers', 'pillow_worker.py')],
            env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
          },
          label: `Python ${pillowRuntime.value.pythonVersion} + Pillow ${pillowRuntime.value.pillowVersion}`,
        },
      }
    : pillowRuntime;

  const files = chooseFiles(corpus.value.files, plan);
  const rows: Figure[] = [];
  if (options.only.has('image')) {
    rows.push(...(await benchImageCore({ corpus: corpus.value, plan, files, node, core, pillow, jimpVersion: machine.jimp, log })));
  }
  if (options.only.has('progressive')) rows.push(...(await benchProgressive({ corpus: corpus.value, plan, node, core, log })));
  if (options.only.has('cost')) rows.push(...(await benchCost({ corpus: corpus.value, plan, files, node, core, pillow, log })).rows);
  if (options.only.has('memory')) {
    const largest = corpus.value.files.find((f) => f.name === LARGEST_PHOTO);
    rows.push(...(await benchMemory({ largest, plan, node, core, pillow, jimpVersion: machine.jimp, log })));
  }
  return [...rows, ...insightRows];
}

function resultsMarkdown(rows: readonly Figure[], machine: MachineInfo, elapsedMs: number): string {
  return [
    '# Bench results',
    '',
    'The latest full run of `npm run bench -- --write-results` (written by the bench; do not edit by hand).',
    'The machine is shared, so absolute figures drift between runs; the ratios are measured side by side,',
    'engines interleaved file by file, and are the figures to compare across runs.',
    '',
    '## Machine',
    '',
    ...describeMachine(machine).map((line) => `- ${line}`),
    `- Full run took ${formatMs(elapsedMs)}`,
    '',
    '## Figures',
    '',
    renderMarkdownTable(rows),
    '',
    'MB = 2^20 bytes. "n/a (reason)" marks a part that could not run on this machine.',
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const started = performance.now();
  // The SDK's notice that Node 20 is nearing its end would interleave with the progress lines.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = parseOptions(process.argv.slice(2));
  const plan = makePlan({ quick: options.quick, e2e: options.e2e });
  const machine = await machineInfo();
  log(`img-resizer bench (${plan.quick ? 'quick' : 'full'} run) on ${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadAtStart.toFixed(2)}`);

  const rows: Figure[] = [];
  if (['image', 'progressive', 'cost', 'memory', 'insight'].some((part) => options.only.has(part as Part))) rows.push(...(await imageParts(options, plan, machine)));
  if (options.only.has('pixel-limit')) rows.push(...(await benchPixelLimit(plan, await attempt('image core', bundleImageCore), log)));
  if (options.only.has('artifacts')) rows.push(...(await benchArtifacts(plan, log)));
  if (options.only.has('e2e')) rows.push(...(await benchEndToEnd(plan, log, options.corpus)));
  if (options.only.has('startup')) {
    const nodes = await startupNodes();
    const startup = [...(await benchStartup(plan, log, nodes)), ...(await benchFirstRequest(plan, log, nodes))];
    // One table section per Node: its whole-process rows, then its time-to-first-request rows.
    for (const node of nodes) rows.push(...startup.filter((row) => row.section === startupSection(node)));
  }
  if (options.only.has('throughput')) rows.push(...(await benchThroughput(plan, log)));
  if (options.only.has('workflow')) rows.push(...(await benchWorkflow(plan, log, options.corpus)));
  const elapsed = performance.now() - started;

  if (options.json) {
    process.stdout.write(`${JSON.stringify({ quick: plan.quick, elapsedMs: Math.round(elapsed), machine, figures: rows }, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${renderTextTable(rows)}\n\n${describeMachine(machine).join('\n')}\nRun took ${formatMs(elapsed)}.\n`);
  }
  if (options.writeResults) {
    if (plan.quick || options.only.size !== PARTS.length) {
      log('--write-results: not written; bench/RESULTS.md holds full runs of every part only.');
      return 2;
    }
    await writeFile(RESULTS_FILE, resultsMarkdown(rows, machine, elapsed));
    log(`Wrote ${path.relative(process.cwd(), RESULTS_FILE)}`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
