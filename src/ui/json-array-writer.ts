/**
 * Writes one JSON array element by element, so a listing can print as pages arrive and hold nothing but the
 * element in hand. The text is exactly what `JSON.stringify(items, null, 2)` would give: each element's last
 * line ("  }") is held back until we know whether a comma follows it.
 */
export class JsonArrayWriter {
  private count = 0;
  private heldLine: string | undefined;
  private closed = false;

  /** `writeLine` receives text without its final newline (it may span several lines). */
  constructor(private readonly writeLine: (text: string) => void) {}

  get written(): number {
    return this.count;
  }

  write(value: unknown): void {
    if (this.closed) throw new Error('JsonArrayWriter: write after close');
    // JSON.stringify gives undefined for undefined (its types do not say so); an array holds null there.
    const text = JSON.stringify(value, null, 2) as string | undefined;
    const lines = (text ?? 'null').split('\n').map((line) => `  ${line}`);
    const last = lines.pop() ?? '';
    const head = this.count === 0 ? '[' : `${this.heldLine ?? ''},`;
    this.writeLine([head, ...lines].join('\n'));
    this.heldLine = last;
    this.count++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writeLine(this.count === 0 ? '[]' : `${this.heldLine ?? ''}\n]`);
  }
}
