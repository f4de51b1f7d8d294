import pc from 'picocolors';
import type { Ora } from 'ora';

/**
 * All console output goes through here. Human text goes to stderr whenever --json is on, so stdout
 * carries exactly one JSON document; spinners and colour only on an interactive terminal.
 */
export interface OutputOptions {
  json: boolean;
  debug: boolean;
  /** Overrides for tests. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  interactive?: boolean;
}

/**
 * A terminal a spinner can redraw on. One that reports zero columns (a pty nobody sized: `script` without a
 * terminal, some CI runners, `docker exec -t`) does not count: ora divides by the width and, at zero, clears
 * lines forever.
 */
export function isInteractiveTerminal(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }): boolean {
  const sized = stream.columns === undefined || stream.columns > 0;
  return Boolean(stream.isTTY) && sized && !process.env.CI && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
}

let processStdoutWritten = false;

/** Whether anything went to the process's stdout through an Output (so main() adds no second JSON document). */
export function stdoutWasWritten(): boolean {
  return processStdoutWritten;
}

export class Output {
  readonly json: boolean;
  readonly debugEnabled: boolean;
  readonly interactive: boolean;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;
  private readonly colors: ReturnType<typeof pc.createColors>;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.debugEnabled = options.debug;
    this.out = options.stdout ?? process.stdout;
    this.err = options.stderr ?? process.stderr;
    this.interactive = options.interactive ?? isInteractiveTerminal(this.err);
    this.colors = pc.createColors(this.interactive);
  }

  get color(): ReturnType<typeof pc.createColors> {
    return this.colors;
  }

  private markStdout(): void {
    if (this.out === process.stdout) processStdoutWritten = true;
  }

  /** Human text: stdout normally, stderr under --json. */
  info(message: string): void {
    (this.json ? this.err : this.out).write(`${message}\n`);
  }

  /** Context lines (target endpoint, progress) always go to stderr. */
  note(message: string): void {
    this.err.write(`${this.colors.dim(message)}\n`);
  }

  success(message: string): void {
    (this.json ? this.err : this.out).write(`${this.colors.green('✔')} ${message}\n`);
  }

  warn(message: string): void {
    this.err.write(`${this.colors.yellow('!')} ${message}\n`);
  }

  error(message: string, suggestion?: string): void {
    this.err.write(`${this.colors.red('✖')} ${message}\n`);
    if (suggestion) this.err.write(`  ${this.colors.dim(suggestion)}\n`);
  }

  debug(message: string): void {
    if (this.debugEnabled) this.err.write(`${this.colors.dim(`[debug] ${message}`)}\n`);
  }

  /** The single JSON document of a --json run. */
  result(value: unknown): void {
    this.markStdout();
    this.out.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Raw line to stdout (streamed listings). */
  line(text: string): void {
    this.markStdout();
    this.out.write(`${text}\n`);
  }

  /**
   * Resolves once stdout has room again (or is gone), so a long streamed listing waits for a slow reader
   * instead of piling its output up in memory.
   */
  drained(): Promise<void> {
    const out = this.out as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (!out.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        out.off('close', done);
        out.off('error', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
      out.on('error', done);
    });
  }

  /** A spinner on a terminal; plain start/finish lines otherwise. */
  task(text: string): TaskReporter {
    if (this.interactive) return lazySpinner(text, this.err);
    return {
      update: () => undefined,
      succeed: (t) => { this.err.write(`✔ ${t ?? text}\n`); },
      fail: (t) => { this.err.write(`✖ ${t ?? text}\n`); },
      skip: (t) => { this.err.write(`- ${t ?? text}\n`); },
    };
  }

  /** A progress line that redraws on a terminal and prints sparse updates otherwise. */
  progress(label: string, total: number): ProgressReporter {
    let done = 0;
    let lastPrinted = -1;
    const draw = (): void => {
      const width = 24;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      this.err.write(`\r${label} ${bar} ${done}/${total}`);
    };
    return {
      tick: (n = 1) => {
        done += n;
        if (this.interactive) draw();
        else {
          const step = Math.max(1, Math.ceil(total / 10));
          if (done === total || done - lastPrinted >= step) {
            lastPrinted = done;
            this.err.write(`${label} ${done}/${total}\n`);
          }
        }
      },
      stop: () => {
        if (this.interactive) this.err.write('\n');
      },
    };
  }
}

export interface TaskReporter {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  skip(text?: string): void;
}

export interface ProgressReporter {
  tick(n?: number): void;
  stop(): void;
}

/** Renders rows as an aligned text table. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: string[]): string =>
    cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [format(headers), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)].join('\n');
}

/**
 * ora (with its dependencies) takes longer to load than the rest of the CLI's start-up, and only a terminal
 * needs it: it is imported when the first spinner starts, and what happens before it has loaded is replayed.
 */
function lazySpinner(text: string, stream: NodeJS.WritableStream): TaskReporter {
  let spinner: Ora | undefined;
  let current = text;
  let finish: ((s: Ora) => void) | undefined;
  void import('ora').then(({ default: ora }) => {
    spinner = ora({ text: current, stream });
    if (finish) finish(spinner);
    else spinner.start();
  });
  const end = (how: (s: Ora) => void): void => {
    if (spinner) how(spinner);
    else finish = how;
  };
  return {
    update: (t) => {
      current = t;
      if (spinner) spinner.text = t;
    },
    succeed: (t) => { end((s) => { s.succeed(t ?? text); }); },
    fail: (t) => { end((s) => { s.fail(t ?? text); }); },
    skip: (t) => { end((s) => { s.info(t ?? text); }); },
  };
}
