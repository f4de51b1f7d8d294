import { execFile } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { localTestContext } from '../helpers/context.js';
import { uniqueStackName } from '../helpers/deploy.js';

const run = promisify(execFile);
const tsx = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;
const entry = path.resolve('test/helpers/run-cli.ts');

async function tmux(...args: string[]): Promise<string> {
  return (await run('tmux', args)).stdout;
}

/**
 * Runs `init` in a real terminal (a detached tmux pane, 100 columns), presses Enter at every settings question,
 * and answers `answer` to "Apply this plan?". Returns the screen once the command has finished.
 */
async function interactiveInit(cwd: string, stackName: string, answer: string): Promise<string> {
  const session = `ux-b-${stackName}`;
  const endpoint = inject('ministackEndpoint');
  const command = [
    'env', '-u', 'CI', 'AWS_ACCESS_KEY_ID=test', 'AWS_SECRET_ACCESS_KEY=test', 'AWS_REGION=us-east-1',
    'node', '--import', tsx, entry, 'init', '--endpoint-url', endpoint, '--stack-name', stackName,
    ';', 'echo', 'EXIT=$?', ';', 'sleep', '60',
  ].map((part) => (part === ';' ? ';' : `'${part.replace(/'/g, "'\\''")}'`)).join(' ').replace(/'EXIT=\$\?'/, '"EXIT=$?"');
  await tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '50', '-c', cwd, command);
  try {
    const deadline = Date.now() + 240_000;
    let answered = false;
    let lastQuestion = '';
    for (;;) {
      if (Date.now() > deadline) throw new Error(`init did not finish:\n${await tmux('capture-pane', '-p', '-t', session)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const screen = await tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', session);
      if (screen.includes('EXIT=')) return screen;
      // The open question, if any: inquirer marks it "?" until answered (then "✔"), with choices below it.
      const question = screen.split('\n').filter((l) => l.trimStart().startsWith('? ')).at(-1) ?? '';
      if (!answered && question.includes('Apply this plan?')) {
        answered = true;
        if (answer !== '') await tmux('send-keys', '-t', session, answer);
        await tmux('send-keys', '-t', session, 'Enter');
      } else if (!answered && question !== '' && question !== lastQuestion) {
        // A settings question: take its default.
        lastQuestion = question;
        await tmux('send-keys', '-t', session, 'Enter');
      }
    }
  } finally {
    await tmux('kill-session', '-t', session).catch(() => undefined);
  }
}

describe('interactive init shows the plan and asks before applying', () => {
  it('answering no changes nothing and writes no settings file', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-confirm-'));
    const stackName = uniqueStackName('cf');
    const screen = await interactiveInit(cwd, stackName, 'n');
    expect(screen).toContain('will create');
    expect(screen).toContain('Apply this plan?');
    expect(screen).toContain('Nothing was changed.');
    expect(screen).toContain('EXIT=0');
    expect(await readdir(cwd)).toEqual([]);
    const { context } = await localTestContext();
    const s3 = (await context.clients()).s3;
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
    expect(Buckets.filter((b) => b.Name?.startsWith(stackName))).toEqual([]);
    context.close();
  }, 300_000);

  it('the default (Enter) applies the plan it showed', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-confirm-'));
    const stackName = uniqueStackName('cf');
    const screen = await interactiveInit(cwd, stackName, '');
    expect(screen).toContain('Apply this plan?');
    expect(screen).toContain(`Stack "${stackName}" is ready`);
    expect(screen).toContain('EXIT=0');
    expect(await readdir(cwd)).toContain('img-resizer.config.json');
  }, 300_000);
});
