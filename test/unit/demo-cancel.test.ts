import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/commands/demo.js';
import { AppContext } from '../../src/context.js';
import { ExitCode } from '../../src/errors.js';
import { Output } from '../../src/ui/output.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('demo on real AWS', () => {
  it('declined: exits 0 with a cancelled result, not an error, and makes no request', async () => {
    const out = capture();
    const err = capture();
    const output = new Output({ json: true, debug: false, stdout: out.stream, stderr: err.stream, interactive: false });
    // An AWS target that no request could reach: declining must come before any call.
    const context = new AppContext({ json: true }, { output, target: { kind: 'aws', region: 'us-east-1', profile: undefined, endpoint: undefined, endpointOverridden: false, credentials: undefined } });
    const questions: string[] = [];
    const outcome = await runDemo(context, { confirm: (question) => { questions.push(question); return Promise.resolve(false); } });
    expect(questions).toHaveLength(1);
    expect(outcome).toEqual({ exitCode: ExitCode.Ok, cancelled: true });
    expect(JSON.parse(out.text())).toEqual({ cancelled: true });
  });
});
