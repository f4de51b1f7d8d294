import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { inject } from 'vitest';
import { localTarget } from '../../src/aws/target.js';
import { AppContext, type GlobalOptions } from '../../src/context.js';
import { Output } from '../../src/ui/output.js';
import { RequestRecorder } from './request-recorder.js';

export interface TestContext {
  context: AppContext;
  recorder: RequestRecorder;
  cwd: string;
  stdout: () => string;
  stderr: () => string;
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * An AppContext aimed at the test run's MiniStack (or at `endpoint`, a MiniStack of the test's own), in a
 * fresh working directory, with output captured.
 */
export async function localTestContext(globals: GlobalOptions = {}, cwd?: string, endpoint: string = inject('ministackEndpoint')): Promise<TestContext> {
  const dir = cwd ?? (await mkdtemp(path.join(os.tmpdir(), 'img-resizer-test-')));
  const out = capture();
  const err = capture();
  const recorder = new RequestRecorder();
  const output = new Output({ json: Boolean(globals.json), debug: false, stdout: out.stream, stderr: err.stream, interactive: false });
  const context = new AppContext(
    { yes: true, ...globals },
    { output, cwd: dir, target: localTarget(endpoint, {}), clientOptions: { hooks: [recorder.hook] } },
  );
  return { context, recorder, cwd: dir, stdout: out.text, stderr: err.text };
}
