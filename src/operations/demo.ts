import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { getObjectBytes } from '../aws/objects.js';
import { buildArtifacts } from '../artifact/build.js';
import type { Prompter } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { cacheDir, packageRoot } from '../paths.js';
import { demoPhotos, type DemoPhotos } from './demo-photos.js';
import { runInit, type InitEvent, type InitResult } from './init.js';
import { runMetadataList, type MetadataListResult, type MetadataListSink } from './metadata.js';
import { runResize, type ResizeReport } from './resize.js';
import { runUpload, type UploadReport } from './upload.js';

import { DEMO_DIR, hostArchitecture } from '../constants.js';
export const DEMO_PREFIX = 'demo/';

export interface DemoOptions {
  /** How many photographs to upload. */
  photos?: number;
  /** Where local results go, relative to the working directory. */
  outDir?: string;
  timeoutSeconds?: number;
  /** Draw sample images instead of fetching real photographs (offline machines, tests). */
  generatedImages?: boolean;
  /** Overrides for tests: the corpus script and its cache. */
  corpusScript?: string | undefined;
  corpusDir?: string;
  /** Asks a person (on a terminal, without --yes) before real AWS resources are made; none means no one to ask. */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
}

/** The demo's result: its report, or that the person declined before anything was created (exit 0, not an error). */
export type DemoOutcome = { exitCode: ExitCode; cancelled: false; report: DemoReport; target: DemoTarget } | { exitCode: ExitCode; cancelled: true };

/** Where the demo ran, for the commands it suggests next. */
export interface DemoTarget {
  endpoint: string | undefined;
  region: string;
  local: boolean;
}

export interface DemoReport {
  settingsFile: string;
  sourceBucket: string;
  destBucket: string;
  table: string;
  photos: DemoPhotos['source'];
  uploaded: { key: string; status: string; outputs: { key: string; width: number; height: number }[] }[];
  /** Outputs downloaded from the destination bucket. */
  downloaded: string[];
  /** Files the local `resize` wrote. */
  resizedLocally: string[];
  outDir: string;
}

/** The demo never asks: every value init would prompt for takes its default (--yes semantics). */
const acceptDefaults: Prompter = {
  input: (_message, defaultValue) => Promise.resolve(defaultValue),
  select: (_message, _choices, defaultValue) => Promise.resolve(defaultValue),
  confirm: (_message, defaultValue) => Promise.resolve(defaultValue),
};


/** ../shared/corpus/fetch-photos.sh next to this checkout, when it exists. */
function defaultCorpusScript(): string | undefined {
  try {
    return path.resolve(packageRoot(), '..', 'shared', 'corpus', 'fetch-photos.sh');
  } catch {
    return undefined;
  }
}

/**
 * The README's first command: stands up the stack (init, never prompting), uploads a few real photographs and
 * waits for the function, resizes one locally with the same core, downloads the function's outputs, prints the
 * metadata table and says where everything is.
 */
/** What the demo reports while it runs, so its renderer can show the steps' own results in place. */
export interface DemoEvents {
  /** A step begins (its title). */
  step?: (title: string) => void;
  /** init's step events as they happen, then its result. */
  init?: { onEvent: (event: InitEvent) => void; finish: (result: InitResult) => void };
  resized?: (report: ResizeReport) => void;
  /** Where the metadata step's pages go, and what shows its end. */
  metadata?: { sink: MetadataListSink; finish: (result: MetadataListResult) => void };
}

export async function runDemo(context: AppContext, options: DemoOptions = {}, events: DemoEvents = {}): Promise<DemoOutcome> {
  const { output } = context;
  const outDir = path.resolve(context.cwd, options.outDir ?? DEMO_DIR);
  if (!(await consented(context, options.confirm))) return { exitCode: ExitCode.Ok, cancelled: true };
  const clients = await context.clients();

  events.step?.('1. init: create the buckets, table, role, layer, function and trigger');
  const init = await runInit(context, {
    prompter: acceptDefaults,
    // MiniStack runs functions with this machine's node, so the sharp layer must match this machine's CPU.
    ...(clients.target.kind === 'local' ? { arch: hostArchitecture() } : {}),
    build: async (arch, runtime) => {
      const { functionZip, layerZip } = await buildArtifacts({ arch, runtime, output });
      return { functionZip, layerZip };
    },
    onEvent: events.init?.onEvent,
  });
  events.init?.finish(init);
  const settings = init.settings;

  events.step?.('2. upload: a few photographs to the source bucket, waiting for the function');
  const photoTask = output.task('Preparing sample photographs');
  const photos = await demoPhotos({
    corpusDir: options.corpusDir ?? path.join(cacheDir(), 'corpus'),
    corpusScript: options.generatedImages ? undefined : 'corpusScript' in options ? options.corpusScript : defaultCorpusScript(),
    stagingDir: path.join(outDir, 'photos'),
    count: options.photos ?? 4,
    onStatus: (text) => { photoTask.update(text); },
  });
  if (photos.source === 'corpus') photoTask.succeed(`Using ${photos.files.length} real photographs`);
  else if (options.generatedImages) photoTask.succeed(`Generated ${photos.files.length} sample images`);
  else photoTask.skip(`Generated ${photos.files.length} sample images instead of photographs (${photos.fallbackReason ?? 'no corpus'})`);
  const upload = await runUpload(context, {
    paths: photos.files,
    prefix: DEMO_PREFIX,
    wait: true,
    timeoutSeconds: options.timeoutSeconds ?? 120,
  });

  events.step?.('3. resize: the same image core, on this machine, no AWS involved');
  const localDir = path.join(outDir, 'local');
  const firstPhoto = photos.files[0];
  let resizedLocally: string[] = [];
  if (firstPhoto) {
    const resized = await runResize(context, [firstPhoto], { out: localDir, sizes: settings.sizes, format: settings.format, fit: settings.fit });
    events.resized?.(resized);
    resizedLocally = resized.files;
  }

  events.step?.('4. metadata: what the function recorded');
  const listed = await runMetadataList(context, {}, events.metadata?.sink ?? { page: () => Promise.resolve(), failed: () => undefined });
  events.metadata?.finish(listed);

  const downloaded = await downloadOutputs(context, upload.report, path.join(outDir, 'from-s3'));
  const report: DemoReport = {
    settingsFile: context.settingsFile,
    sourceBucket: settings.sourceBucket,
    destBucket: settings.destBucket,
    table: settings.table,
    photos: photos.source,
    uploaded: upload.report.files.map((f) => ({
      key: f.key,
      status: f.outcome,
      outputs: (f.item?.Outputs ?? []).map((o) => ({ key: o.Key, width: o.Width, height: o.Height })),
    })),
    downloaded,
    resizedLocally,
    outDir,
  };
  const target = { endpoint: clients.target.endpoint, region: await clients.s3.config.region(), local: Boolean(context.globals.local) };
  return { exitCode: upload.exitCode, cancelled: false, report, target };
}

/** On real AWS the demo creates billable resources: only with --yes or a person's consent. */
async function consented(context: AppContext, confirm: DemoOptions['confirm']): Promise<boolean> {
  const target = await context.resolveTarget();
  if (target.kind !== 'aws' || context.yes) return true;
  if (!confirm) {
    throw new UsageError('The demo would create resources in your AWS account.', 'Run it on the local stack with --local, or pass --yes to go ahead on AWS.');
  }
  return confirm('The demo creates two buckets, a table, a role, a layer and a function in your AWS account. Go ahead?');
}

/** The function's outputs of the demo's uploads, copied next to the local results so they can be opened. */
async function downloadOutputs(context: AppContext, upload: UploadReport, dir: string): Promise<string[]> {
  const clients = await context.clients();
  const items = upload.files.map((f) => f.item).filter((i): i is MetadataItem => i?.Status === 'SUCCEEDED');
  const files: string[] = [];
  for (const item of items) {
    for (const outputObject of item.Outputs) {
      const file = path.join(dir, ...outputObject.Key.split('/'));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, await getObjectBytes(clients.s3, item.Bucket, outputObject.Key));
      files.push(file);
    }
  }
  return files;
}
