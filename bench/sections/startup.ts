/**
 * CLI start-up (issue 21): whole processes of the built CLI, timed side by side with a bare `node -e 0`, so the
 * ratio says what img-resizer adds to node's own start. `metadata get` runs against a local stack of its own.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import { REPO_ROOT } from '../lib/corpus.js';
import type { Plan } from '../lib/plan.js';
import { formatMs, formatRatio, median, pairedRatio } from '../lib/stats.js';

const execFileAsync = promisify(execFile);

const STARTUP = 'CLI start-up (whole processes)';
/** Issue 21: --help and --version within twice a bare node. */
const HELP_TARGET_RATIO = 2;

interface Case {
  name: string;
  args: string[];
  target?: number;
}

async function timeProcess(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await execFileAsync(process.execPath, args, { cwd, env, timeout: 60_000 });
  return performance.now() - started;
}

/** A local stack with one table and one item, and a settings file naming them, for `metadata get`. */
async function metadataStack(cwd: string, log: (line: string) => void): Promise<() => Promise<void>> {
  const { freePort, localStateDir, startLocalStack, stopLocalStack } = await import('../../src/local/ministack.js');
  const { AwsClients } = await import('../../src/aws/clients.js');
  const { localTarget } = await import('../../src/aws/target.js');
  const { createTable, waitForTableActive } = await import('../../src/aws/dynamodb.js');
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { imageIdFor } = await import('../../lambda-src/core/image-id.js');
  log('Start-up: starting a local stack for `metadata get` …');
  const stateDir = localStateDir(cwd);
  const info = await startLocalStack({ stateDir, port: await freePort(), persist: false, startTimeoutMs: 120_000 });
  const clients = new AwsClients(localTarget(info.endpoint, {}));
  const settings = {
    stackName: 'bench', region: 'us-east-1', sourceBucket: 'bench-source', destBucket: 'bench-dest', table: 'bench-metadata',
    functionName: 'bench-resize', roleName: 'bench-role', layerName: 'bench-sharp', sizes: 'thumbnail=200x200', format: 'png', fit: 'cover',
    arch: 'x86_64', memory: 1024, timeout: 60,
  };
  await createTable(clients.dynamodb, settings.table, 'ImageID', {});
  await waitForTableActive(clients.dynamodb, settings.table);
  await clients.documents.send(new PutCommand({
    TableName: settings.table,
    Item: {
      ImageID: imageIdFor(settings.sourceBucket, 'photo.jpg'), Status: 'SUCCEEDED', SourceBucket: settings.sourceBucket, OriginalFile: 'photo.jpg',
      Bucket: settings.destBucket, OriginalWidth: 4000, OriginalHeight: 3000, OriginalFormat: 'jpeg', OriginalBytes: 2_000_000,
      ProcessedAt: new Date().toISOString(), DurationMs: 100, Outputs: [],
    },
  }));
  clients.destroy();
  await writeFile(path.join(cwd, 'img-resizer.config.json'), JSON.stringify(settings));
  return async () => { await stopLocalStack(stateDir); };
}

export async function benchStartup(plan: Plan, log: (line: string) => void): Promise<Figure[]> {
  const bin = path.join(REPO_ROOT, 'bin', 'img-resizer.js');
  const runs = plan.quick ? 5 : 15;
  const method = (what: string): string =>
    `${what}: wall time of a whole process (spawn to exit) of the built CLI; median of ${runs} after 1 warm-up, alternated with \`node -e 0\`; ratio = median of paired ratios`;
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'src', 'main.js'))) {
    return [notAvailable(STARTUP, 'img-resizer --help', 'dist/ missing: run npm run build first', method('--help'))];
  }
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bench-startup-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const cases: Case[] = [
    { name: 'img-resizer --version', args: [bin, '--version'], target: HELP_TARGET_RATIO },
    { name: 'img-resizer --help', args: [bin, '--help'], target: HELP_TARGET_RATIO },
    { name: 'img-resizer local status', args: [bin, 'local', 'status'] },
  ];
  let stopStack: (() => Promise<void>) | undefined;
  const rows: Figure[] = [];
  try {
    try {
      stopStack = await metadataStack(cwd, log);
      cases.push({ name: 'img-resizer --local metadata get (local stack)', args: [bin, '--local', 'metadata', 'get', 'photo.jpg'] });
    } catch (error) {
      rows.push(notAvailable(STARTUP, 'img-resizer --local metadata get', `no local stack: ${oneLine(error instanceof Error ? error.message : String(error))}`, method('metadata get')));
    }
    log(`Start-up: ${cases.length} commands and bare node, ${runs} rounds …`);
    const bare: number[] = [];
    const times = cases.map((): number[] => []);
    for (let round = -1; round < runs; round++) {
      const bareMs = await timeProcess(['-e', '0'], cwd, env);
      const caseMs: number[] = [];
      for (const c of cases) caseMs.push(await timeProcess(c.args, cwd, env));
      if (round < 0) continue; // warm-up: file cache, MiniStack's first request
      bare.push(bareMs);
      caseMs.forEach((ms, i) => times[i]?.push(ms));
    }
    rows.unshift(figure(STARTUP, 'node -e 0 (the floor)', { result: formatMs(median(bare)), method: `bare node start-up, alternated with every command below; median of ${runs}`, value: median(bare), unit: 'ms' }));
    cases.forEach((c, i) => {
      const samples = times[i] ?? [];
      const ratio = pairedRatio(samples, bare);
      rows.push(
        figure(STARTUP, c.name, {
          result: `${formatMs(median(samples))} · ${formatRatio(ratio)} bare node`,
          target: c.target === undefined ? '' : `≤ ${c.target}× node`,
          pass: c.target === undefined ? undefined : ratio <= c.target,
          method: method(c.args.slice(1).join(' ')),
          value: ratio,
          unit: '× node -e 0',
        }),
      );
    });
  } finally {
    await stopStack?.();
    await rm(cwd, { recursive: true, force: true });
  }
  return rows;
}
