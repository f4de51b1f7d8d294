import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { oneLine } from './figures.js';

/** A command line to run a worker: the interpreter and its arguments before the worker's own. */
export interface WorkerCommand {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join(' / ');
}

/**
 * A long-lived worker answering one JSON line per request. The parent drives it pass by pass, so passes
 * of different engines (and different processes: Node, Python) interleave round by round.
 */
export class ServeWorker {
  private readonly pending: ((line: string | undefined) => void)[] = [];
  /** Lines that arrived before anyone asked for them. */
  private readonly unread: string[] = [];
  private stderr = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: Interface,
    readonly label: string,
  ) {
    lines.on('line', (line) => {
      const waiter = this.pending.shift();
      if (waiter) waiter(line);
      else this.unread.push(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('close', () => {
      this.exited = true;
      for (const resolve of this.pending.splice(0)) resolve(undefined);
    });
  }

  static async start(label: string, worker: WorkerCommand, mode: string, config: unknown, timeoutMs = 120_000): Promise<ServeWorker> {
    const child = spawn(worker.command, [...worker.args, mode, JSON.stringify(config)], {
      env: worker.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.on('error', () => undefined);
    const lines = createInterface({ input: child.stdout });
    const instance = new ServeWorker(child, lines, label);
    const ready = await instance.next(timeoutMs);
    if (!(ready as { ready?: boolean }).ready) throw new Error(`${label} did not start`);
    return instance;
  }

  private next(timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const early = this.unread.shift();
      if (early !== undefined) {
        try {
          resolve(JSON.parse(early));
        } catch {
          reject(new Error(`${this.label} said: ${oneLine(early)}`));
        }
        return;
      }
      if (this.exited) {
        reject(new Error(`${this.label} exited: ${oneLine(lastLines(this.stderr), 200)}`));
        return;
      }
      const timer = setTimeout(() => {
        // A worker that missed its answer is out of step with us: it is not asked again.
        this.child.kill('SIGKILL');
        reject(new Error(`${this.label} timed out after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.push((line) => {
        clearTimeout(timer);
        if (line === undefined) reject(new Error(`${this.label} exited: ${oneLine(lastLines(this.stderr), 200)}`));
        else {
          try {
            resolve(JSON.parse(line));
          } catch {
            reject(new Error(`${this.label} said: ${oneLine(line)}`));
          }
        }
      });
    });
  }

  /** One timed pass of `engine` over the files at `indices`: milliseconds per file. */
  async pass(engine: string, indices: readonly number[], timeoutMs = 300_000): Promise<number[]> {
    this.child.stdin.write(`${JSON.stringify({ engine, files: indices })}\n`);
    const reply = (await this.next(timeoutMs)) as { times?: number[]; error?: string };
    if (reply.error !== undefined) throw new Error(reply.error);
    if (!Array.isArray(reply.times)) throw new Error(`${this.label} gave no times`);
    return reply.times;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const closed = new Promise<void>((resolve) => this.child.once('close', () => { resolve(); }));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await closed;
    clearTimeout(timer);
    this.lines.close();
  }
}

/** Runs a worker to completion and parses the last line of its stdout as JSON. */
export async function runOnce<T>(worker: WorkerCommand, mode: string, config: unknown, timeoutMs = 180_000): Promise<T> {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(worker.command, [...worker.args, mode, JSON.stringify(config)], {
      env: worker.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { err = (err + chunk.toString('utf8')).slice(-4000); });
    child.on('error', reject);
    child.on('close', (exitCode) => { resolve({ code: exitCode, stdout: out, stderr: err }); });
  });
  if (code !== 0) throw new Error(`exit ${code ?? 'by signal (timeout?)'}: ${oneLine(lastLines(stderr), 200)}`);
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
