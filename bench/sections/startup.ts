/**
 * CLI start-up (issue 21): whole processes of the built CLI, timed side by side with a bare `node -e 0` of the same
 * Node, so the ratio says what img-resizer adds to node's own start. `metadata get` runs against a local stack of
 * its own. Then each AWS command's own start-up: the time from spawning it to its first request, which a loopback
 * HTTP server of the bench's notes as it arrives. Each on the machine's Node and on the newest LTS, because the two
 * differ more than anything img-resizer does (a distribution's Node 20 starts in twice the time of nodejs.org's 24,
 * and has no compile cache).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import { REPO_ROOT } from '../lib/corpus.js';
import type { Plan } from '../lib/plan.js';
import { formatMs, formatRatio, median, pairedRatio } from '../lib/stats.js';

const execFileAsync = promisify(execFile);

/**
 * A Node.js to time the CLI on: the machine's own, and the newest LTS as nodejs.org builds it (the machine's may be
 * a distribution's build, such as Debian's Node 20, which starts about twice as slowly and has no compile cache).
 */
export interface BenchNode {
  /** The binary. */
  path: string;
  /** "v20.20.2, the machine's" */
  label: string;
}

/** The section the rows of one Node go in. */
export function startupSection(node: BenchNode): string {
  return `CLI start-up (whole processes), node ${node.label}`;
}
/** Issue 21: --help and --version within twice a bare node. */
const HELP_TARGET_RATIO = 2;
/** Issue 21: every command's own start-up, spawn to its first request, on this machine. */
const FIRST_REQUEST_TARGET_MS = 150;

interface Case {
  name: string;
  args: string[];
  target?: number;
}

/**
 * The run's own compile cache (Node 22.1+): Node's default place under a temporary directory of the run's, so the
 * warm-up round fills it as an operator's first run fills theirs, and nothing from outside the run is reused.
 */
async function ownCompileCache(cwd: string): Promise<NodeJS.ProcessEnv> {
  const tmp = path.join(cwd, 'tmp');
  await mkdir(tmp, { recursive: true });
  return { TMPDIR: tmp, NODE_COMPILE_CACHE: undefined };
}

async function timeProcess(node: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await execFileAsync(node, args, { cwd, env, timeout: 60_000 });
  return performance.now() - started;
}

/** A local stack with one table and one item, and a settings file naming them, for `metadata get`. */
async function metadataStack(cwd: string, dataDir: string, log: (line: string) => void): Promise<{ port: number; stop: () => Promise<void> }> {
  const { freePort, localStateDir, startLocalStack, stopLocalStack } = await import('../../src/local/ministack.js');
  const { AwsClients } = await import('../../src/aws/clients.js');
  const { localTarget } = await import('../../src/aws/target.js');
  const { createTable, waitForTableActive } = await import('../../src/aws/dynamodb.js');
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { imageIdFor } = await import('../../lambda-src/core/image-id.js');
  log('Start-up: starting a local stack for `metadata get` …');
  // Its own state under the bench's data directory (IMG_RESIZER_DATA_DIR of the timed commands), where
  // `--local-port` finds it, apart from the user's local stack.
  const port = await freePort();
  const stateDir = localStateDir(port, { IMG_RESIZER_DATA_DIR: dataDir });
  const info = await startLocalStack({ stateDir, port, persist: false, startTimeoutMs: 120_000 });
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
  return { port, stop: async () => { await stopLocalStack(stateDir); } };
}

export async function benchStartup(plan: Plan, log: (line: string) => void, nodes: readonly BenchNode[]): Promise<Figure[]> {
  const bin = path.join(REPO_ROOT, 'bin', 'img-resizer.js');
  const runs = plan.quick ? 5 : 15;
  const method = (what: string): string =>
    `${what}: wall time of a whole process (spawn to exit) of the built CLI; median of ${runs} after 1 warm-up, alternated with \`node -e 0\`; ratio = median of paired ratios`;
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'src', 'main.js'))) {
    return nodes.map((node) => notAvailable(startupSection(node), 'img-resizer --help', 'dist/ missing: run npm run build first', method('--help')));
  }
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bench-startup-'));
  const dataDir = path.join(cwd, 'data');
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', IMG_RESIZER_DATA_DIR: dataDir, ...(await ownCompileCache(cwd)) };
  const cases: Case[] = [
    { name: 'img-resizer --version', args: [bin, '--version'], target: HELP_TARGET_RATIO },
    { name: 'img-resizer --help', args: [bin, '--help'], target: HELP_TARGET_RATIO },
  ];
  const localStatus: Case = { name: 'img-resizer local status', args: [bin, 'local', 'status'] };
  cases.push(localStatus);
  let stopStack: (() => Promise<void>) | undefined;
  const rows: Figure[] = [];
  let noStack: string | undefined;
  try {
    try {
      const stack = await metadataStack(cwd, dataDir, log);
      stopStack = stack.stop;
      // The running stack's port: the command then probes its health over HTTP.
      localStatus.args.push('--port', String(stack.port));
      cases.push({ name: 'img-resizer --local metadata get (local stack)', args: [bin, '--local-port', String(stack.port), 'metadata', 'get', 'photo.jpg'] });
    } catch (error) {
      noStack = `no local stack: ${oneLine(error instanceof Error ? error.message : String(error))}`;
    }
    for (const node of nodes) {
      const section = startupSection(node);
      log(`Start-up on node ${node.label}: ${cases.length} commands and bare node, ${runs} rounds …`);
      const bare: number[] = [];
      const times = cases.map((): number[] => []);
      for (let round = -1; round < runs; round++) {
        const bareMs = await timeProcess(node.path, ['-e', '0'], cwd, env);
        const caseMs: number[] = [];
        for (const c of cases) caseMs.push(await timeProcess(node.path, c.args, cwd, env));
        if (round < 0) continue; // warm-up: file cache, compile cache, MiniStack's first request
        bare.push(bareMs);
        caseMs.forEach((ms, i) => times[i]?.push(ms));
      }
      rows.push(figure(section, 'node -e 0 (the floor)', { result: formatMs(median(bare)), method: `bare node start-up, alternated with every command below; median of ${runs}`, value: median(bare), unit: 'ms' }));
      cases.forEach((c, i) => {
        const samples = times[i] ?? [];
        const ratio = pairedRatio(samples, bare);
        rows.push(
          figure(section, c.name, {
            result: `${formatMs(median(samples))} · ${formatRatio(ratio)} bare node`,
            target: c.target === undefined ? '' : `≤ ${c.target}× node`,
            pass: c.target === undefined ? undefined : ratio <= c.target,
            method: method(c.args.slice(1).join(' ')),
            value: ratio,
            unit: '× node -e 0',
          }),
        );
      });
      if (noStack !== undefined) rows.push(notAvailable(section, 'img-resizer --local metadata get', noStack, method('metadata get')));
    }
  } finally {
    await stopStack?.();
    await rm(cwd, { recursive: true, force: true });
  }
  return rows;
}

/**
 * A loopback HTTP server standing in for AWS and for the local stack's health check: it notes when the first
 * request after arm() arrives (in this process's performance.now(), the clock the spawn time is read from), then
 * answers AWS requests with a refusal the SDK does not retry, so the command ends at once.
 */
class FirstRequestRecorder {
  private readonly server: Server;
  private arrivedAt: number | undefined;
  private firstPath: string | undefined;

  constructor() {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      if (this.arrivedAt === undefined) {
        this.arrivedAt = performance.now();
        this.firstPath = `${request.method ?? ''} ${request.url ?? ''}`;
      }
      request.resume();
      if ((request.url ?? '').startsWith('/_ministack/health')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"services":{}}');
        return;
      }
      const body = '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>bench: first request noted</Message></Error><RequestId>bench</RequestId></ErrorResponse>';
      response.writeHead(403, { 'content-type': 'text/xml', 'x-amzn-requestid': 'bench', 'x-amzn-errortype': 'InvalidClientTokenId' }).end(body);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  arm(): void {
    this.arrivedAt = undefined;
    this.firstPath = undefined;
  }

  first(): { at: number; path: string } | undefined {
    return this.arrivedAt === undefined ? undefined : { at: this.arrivedAt, path: this.firstPath ?? '' };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }
}

/** Spawn to first request of one whole process; undefined when it made none. The exit code does not matter. */
async function timeToFirstRequest(recorder: FirstRequestRecorder, node: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; path: string } | undefined> {
  recorder.arm();
  const started = performance.now();
  await execFileAsync(node, args, { cwd, env, timeout: 60_000 }).catch(() => undefined);
  const first = recorder.first();
  return first === undefined ? undefined : { ms: first.at - started, path: first.path };
}

/**
 * Each AWS command's time to its first request (issue 21 item 3), beside `node -e 0`: `status`, `metadata get`
 * and `upload` aimed at the recorder with --endpoint-url (their first request is STS GetCallerIdentity, which
 * says where the command acts), and `local status`, whose first request is the local stack's health check
 * (its state directory names the recorder).
 */
export async function benchFirstRequest(plan: Plan, log: (line: string) => void, nodes: readonly BenchNode[]): Promise<Figure[]> {
  const bin = path.join(REPO_ROOT, 'bin', 'img-resizer.js');
  const runs = plan.quick ? 5 : 15;
  const method = (what: string, first: string): string =>
    `${what}: spawn of the built CLI to the arrival of its first request (${first}) at a loopback HTTP server in the bench process; median of ${runs} after 1 warm-up, alternated with \`node -e 0\` (spawn to exit); ratio = median of paired ratios; own = median of paired (time to first request − node -e 0), what the command adds before it talks to anyone`;
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'src', 'main.js'))) {
    return nodes.map((node) => notAvailable(startupSection(node), 'time to first request', 'dist/ missing: run npm run build first', method('status', 'STS')));
  }
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bench-first-request-'));
  const recorder = new FirstRequestRecorder();
  try {
    const port = await recorder.listen();
    const endpoint = `http://127.0.0.1:${port}`;
    const dataDir = path.join(cwd, 'data');
    // `local status` finds its server through this record: alive (the bench's own pid) and on the recorder's port.
    const { localStateDir } = await import('../../src/local/ministack.js');
    const stateDir = localStateDir(port, { IMG_RESIZER_DATA_DIR: dataDir });
    await mkdir(stateDir, { recursive: true });
    await writeFile(
      path.join(stateDir, 'server.json'),
      JSON.stringify({ pid: process.pid, port, endpoint, version: 'bench', startedAt: new Date().toISOString() }),
    );
    await writeFile(
      path.join(cwd, 'img-resizer.config.json'),
      JSON.stringify({
        stackName: 'bench', region: 'us-east-1', sourceBucket: 'bench-source', destBucket: 'bench-dest', table: 'bench-metadata', functionName: 'bench-resize',
        roleName: 'bench-role', layerName: 'bench-sharp', sizes: 'thumbnail=200x200', format: 'png', fit: 'cover', arch: 'x86_64', memory: 1024, timeout: 60,
      }),
    );
    const { default: sharp } = await import('sharp');
    await writeFile(path.join(cwd, 'photo.jpg'), await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a6ea5' } }).jpeg().toBuffer());
    const env: NodeJS.ProcessEnv = {
      ...process.env, CI: 'true', IMG_RESIZER_DATA_DIR: dataDir, ...(await ownCompileCache(cwd)), AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    delete env.AWS_PROFILE;
    delete env.AWS_ENDPOINT_URL;
    const target = ['--endpoint-url', endpoint];
    const cases: Case[] = [
      { name: 'status', args: [bin, ...target, 'status'] },
      { name: 'metadata get', args: [bin, ...target, 'metadata', 'get', 'photo.jpg'] },
      { name: 'upload', args: [bin, ...target, 'upload', 'photo.jpg', '--no-wait'] },
      { name: 'local status', args: [bin, 'local', 'status', '--port', String(port)] },
    ];
    const rows: Figure[] = [];
    for (const node of nodes) {
      const section = startupSection(node);
      log(`Start-up on node ${node.label}: time to first request of ${cases.length} commands and bare node, ${runs} rounds …`);
      const bare: number[] = [];
      const times = cases.map((): number[] => []);
      const firstPaths = cases.map((): string => '');
      for (let round = -1; round < runs; round++) {
        const bareMs = await timeProcess(node.path, ['-e', '0'], cwd, env);
        const caseMs: (number | undefined)[] = [];
        for (const [i, c] of cases.entries()) {
          const first = await timeToFirstRequest(recorder, node.path, c.args, cwd, env);
          if (first) firstPaths[i] = first.path;
          caseMs.push(first?.ms);
        }
        if (round < 0) continue;
        bare.push(bareMs);
        caseMs.forEach((ms, i) => { if (ms !== undefined) times[i]?.push(ms); });
      }
      rows.push(...cases.map((c, i) => {
        const samples = times[i] ?? [];
        const first = firstPaths[i] ?? '';
        const name = `img-resizer ${c.name}: time to first request`;
        if (samples.length < runs) return notAvailable(section, name, `${runs - samples.length} of ${runs} runs made no request`, method(c.name, first || 'none'));
        const ttfr = median(samples);
        const own = median(samples.map((ms, round) => ms - (bare[round] ?? 0)));
        return figure(section, name, {
          result: `${formatMs(ttfr)} · ${formatRatio(pairedRatio(samples, bare))} node -e 0 · own ${formatMs(own)}`,
          target: `≤ ${FIRST_REQUEST_TARGET_MS} ms`,
          pass: ttfr <= FIRST_REQUEST_TARGET_MS,
          method: method(c.name, first.split('?')[0] ?? first),
          value: ttfr,
          unit: 'ms',
        });
      }));
    }
    return rows;
  } finally {
    await recorder.close();
    await rm(cwd, { recursive: true, force: true });
  }
}
