import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { getObjectBytes } from '../aws/objects.js';
// lead: switch to operations/init runInit (arch-provision moves init there).
// eslint-disable-next-line no-restricted-imports -- until then the only init there is
import { runInit } from '../commands/init.js';
import type { Prompter } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { cacheDir, packageRoot } from '../paths.js';
import { demoPhotos, type DemoPhotos } from './demo-photos.js';
import { runMetadataList } from './metadata.js';
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
  resized?: (report: ResizeReport) => void;
}

export async function runDemo(context: AppContext, options: DemoOptions = {}, events: DemoEvents = {}): Promise<{ exitCode: ExitCode; report: DemoReport }> {
  const { output } = context;
  const outDir = path.resolve(context.cwd, options.outDir ?? DEMO_DIR);
  const clients = await context.clients();
  await confirmRealAws(context);

  output.info(output.color.bold('1. init: create the buckets, table, role, layer, function and trigger'));
  const init = await runInit(context, {
    prompter: acceptDefaults,
    // MiniStack runs functions with this machine's node, so the sharp layer must match this machine's CPU.
    ...(clients.target.kind === 'local' ? { arch: hostArchitecture() } : {}),
  });
  if (init.exitCode !== ExitCode.Ok) {
    throw new CliError('DEMO_INIT_FAILED', '`init` did not finish; the demo stops here.', { exitCode: init.exitCode });
  }
  const settings = init.settings;

  output.info(output.color.bold('\n2. upload: a few photographs to the source bucket, waiting for the function'));
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

  output.info(output.color.bold('\n3. resize: the same image core, on this machine, no AWS involved'));
  const localDir = path.join(outDir, 'local');
  const firstPhoto = photos.files[0];
  let resizedLocally: string[] = [];
  if (firstPhoto) {
    const resized = await runResize(context, [firstPhoto], { out: localDir, sizes: settings.sizes, format: settings.format, fit: settings.fit });
    events.resized?.(resized);
    resizedLocally = resized.files;
  }

  output.info(output.color.bold('\n4. metadata: what the function recorded'));
  await runMetadataList(context, { json: false });

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
  printWhereToLook(context, report, clients.target.endpoint, await clients.s3.config.region());
  if (output.json) output.result(report);
  return { exitCode: upload.exitCode, report };
}

/** On real AWS the demo creates billable resources: only with --yes or a person's consent. */
async function confirmRealAws(context: AppContext): Promise<void> {
  const { target } = await context.clients();
  if (target.kind !== 'aws' || context.yes) return;
  if (!context.canPrompt) {
    throw new UsageError('The demo would create resources in your AWS account.', 'Run it on the local stack with --local, or pass --yes to go ahead on AWS.');
  }
  const { confirm } = await import('@inquirer/prompts');
  const go = await confirm({ message: 'The demo creates two buckets, a table, a role, a layer and a function in your AWS account. Go ahead?', default: false });
  if (!go) throw new CliError('CANCELLED', 'Nothing was created.', { exitCode: ExitCode.Ok });
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

function printWhereToLook(context: AppContext, report: DemoReport, endpoint: string | undefined, region: string): void {
  const { output } = context;
  const relative = (file: string): string => path.relative(context.cwd, file) || '.';
  const globalFlags = context.globals.local ? ' --local' : endpoint ? ` --endpoint-url ${endpoint}` : '';
  // The local stack takes any credentials, but the AWS CLI wants some.
  const awsCli = context.globals.local || endpoint?.startsWith('http://127.0.0.1')
    ? `AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${region} aws --endpoint-url ${endpoint ?? ''}`
    : `aws${endpoint ? ` --endpoint-url ${endpoint}` : ''}`;
  const lines = [
    '',
    output.color.bold('Where to look'),
    `  Resized images    s3://${report.destBucket}/ (${report.uploaded.reduce((n, u) => n + u.outputs.length, 0)} outputs)`,
    ...report.uploaded.flatMap((u) => u.outputs.map((o) => `                      ${o.key}  ${o.width}x${o.height}`)),
    `  Downloaded copies ${report.downloaded.length > 0 ? relative(path.join(report.outDir, 'from-s3')) : '(none)'}`,
    `  Local resize      ${report.resizedLocally.length > 0 ? relative(path.join(report.outDir, 'local')) : '(none)'}`,
    `  Settings          ${relative(report.settingsFile)} (every other command reads it)`,
    '',
    output.color.bold('Next'),
    `  ${awsCli} s3 cp s3://${report.destBucket}/ ./outputs --recursive   # download every output`,
    `  npx img-resizer${globalFlags} upload <your photos...> --wait`,
    `  npx img-resizer${globalFlags} metadata get "${report.uploaded[0]?.key ?? `${DEMO_PREFIX}<name>`}"`,
    `  npx img-resizer${globalFlags} destroy --yes   # remove everything the demo created`,
  ];
  for (const line of lines) output.info(line);
}
