import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * What `backfill --via queue` has put in the queue, so a run that was killed (SIGKILL, a lost terminal) and run
 * again neither enqueues twice nor loses an object. Why a journal and not SQS deduplication: deduplication
 * exists only on FIFO queues, for five minutes, and a FIFO queue could not redrive into the stack's standard
 * dead-letter queue; a backlog of a large bucket takes far longer than five minutes.
 *
 * One line per object and step, appended synchronously (a killed process loses nothing it wrote):
 * (the key as a JSON string: S3 keys may hold tabs and newlines)
 * - `I <eTag> <key>` before a SendMessageBatch call names the object ("intent"),
 * - `S <eTag> <key>` after SQS accepted it ("sent": in the queue or processed),
 * - `X <eTag> <key>` when SQS refused it for good (not in the queue).
 * An intent without a later S or X is uncertain: the process died during the call. The next run leaves such
 * objects until the queue has drained, then asks the table, so each is enqueued again only if it never arrived.
 * The journal is removed once a run has seen every object it enqueued processed.
 */
export type JournalState = 'intent' | 'sent';

export interface JournalEntry {
  key: string;
  eTag: string;
}

export class BackfillJournal {
  private readonly states = new Map<string, { eTag: string; state: JournalState }>();

  private constructor(readonly file: string) {}

  /** Reads the journal at `file` (none yet: empty); `reset` starts a new one (`--force` enqueues everything again). */
  static open(file: string, options: { reset?: boolean } = {}): BackfillJournal {
    const journal = new BackfillJournal(file);
    mkdirSync(path.dirname(file), { recursive: true });
    if (options.reset === true) {
      rmSync(file, { force: true });
      return journal;
    }
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      // The last line may be cut short by a kill: without its tab-separated three fields it is ignored, and its
      // object then counts as never named (its intent line, written first, still makes it uncertain).
      const [mark, eTag, quoted] = line.split('\t');
      const key = parseKey(quoted);
      if (eTag === undefined || key === undefined) continue;
      if (mark === 'I') journal.states.set(key, { eTag, state: 'intent' });
      else if (mark === 'S') journal.states.set(key, { eTag, state: 'sent' });
      else if (mark === 'X') journal.states.delete(key);
    }
    return journal;
  }

  /** What the journal knows of this version of the object (another ETag: a newer upload, not known). */
  stateOf(entry: JournalEntry): JournalState | undefined {
    const known = this.states.get(entry.key);
    return known?.eTag === entry.eTag ? known.state : undefined;
  }

  get size(): number {
    return this.states.size;
  }

  intent(entries: readonly JournalEntry[]): void {
    this.append('I', 'intent', entries);
  }

  sent(entries: readonly JournalEntry[]): void {
    this.append('S', 'sent', entries);
  }

  refused(entries: readonly JournalEntry[]): void {
    if (entries.length === 0) return;
    appendFileSync(this.file, entries.map((e) => `X\t${e.eTag}\t${JSON.stringify(e.key)}\n`).join(''));
    for (const entry of entries) this.states.delete(entry.key);
  }

  /** Every object it named has been processed: nothing is left to protect. */
  remove(): void {
    rmSync(this.file, { force: true });
    this.states.clear();
  }

  private append(mark: 'I' | 'S', state: JournalState, entries: readonly JournalEntry[]): void {
    if (entries.length === 0) return;
    appendFileSync(this.file, entries.map((e) => `${mark}\t${e.eTag}\t${JSON.stringify(e.key)}\n`).join(''));
    for (const entry of entries) this.states.set(entry.key, { eTag: entry.eTag, state });
  }
}

function parseKey(quoted: string | undefined): string | undefined {
  if (quoted === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(quoted);
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Where a stack's journal lives: beside its settings file, so the operator who runs backfill finds it again. */
export function journalPath(settingsFile: string, stackName: string): string {
  return path.join(path.dirname(settingsFile), '.img-resizer', `backfill-queue-${stackName}.journal`);
}
