import stringWidth from 'string-width';

/**
 * Aligned text tables that fit the terminal. Widths are counted in terminal cells (string-width), not string
 * length, so emoji and CJK keys, which take two cells, keep the columns in line.
 */
export interface TableOptions {
  /** Cells available per line; undefined (not a terminal, or --wide) means no limit. */
  width?: number | undefined;
  /**
   * Columns that may be narrowed (their cells wrap onto more lines), least important first. By default every
   * column, right to left: detail columns sit on the right.
   */
  shrink?: number[];
}

const GAP = '  ';
/** No column is narrowed below this (or its header, if longer): a column of two-letter fragments helps nobody. */
const MIN_COLUMN = 10;

export function renderTable(headers: string[], rows: string[][], options: TableOptions = {}): string {
  const widths = headers.map((h, i) => Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? ''))));
  if (options.width !== undefined) fitWidths(widths, headers, options.width, options.shrink ?? headers.map((_, i) => headers.length - 1 - i));
  const line = (cells: string[]): string => cells.map((c, i) => padCells(c, widths[i] ?? 0)).join(GAP).trimEnd();
  const format = (cells: string[]): string[] => {
    const wrapped = cells.map((cell, i) => wrapCells(cell, widths[i] ?? 0));
    const height = Math.max(1, ...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, n) => line(wrapped.map((w) => w[n] ?? '')));
  };
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.flatMap(format)].join('\n');
}

/**
 * Narrows the shrinkable columns in order until the table fits: first no further than an even share of the room
 * the fixed columns leave (so the first column in the order is not squeezed to nothing while the next keeps all
 * its width), then down to the minimum. It may still overflow when even that is too wide.
 */
function fitWidths(widths: number[], headers: string[], available: number, order: number[]): void {
  const total = (): number => widths.reduce((sum, w) => sum + w, 0) + GAP.length * (widths.length - 1);
  const fixed = widths.reduce((sum, w, i) => sum + (order.includes(i) ? 0 : w), 0) + GAP.length * (widths.length - 1);
  const share = Math.floor((available - fixed) / Math.max(1, order.length));
  for (const floorOf of [(header: number) => Math.max(MIN_COLUMN, header, share), (header: number) => Math.max(MIN_COLUMN, header)]) {
    for (const column of order) {
      const excess = total() - available;
      if (excess <= 0) return;
      const current = widths[column];
      if (current === undefined) continue;
      const floor = Math.min(current, floorOf(stringWidth(headers[column] ?? '')));
      widths[column] = Math.max(floor, current - excess);
    }
  }
}

/** Pads to `width` cells (String.padEnd counts UTF-16 units, which is wrong for wide characters). */
export function padCells(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Splits text into lines of at most `width` cells, at spaces where it can, inside a word when it must. */
export function wrapCells(text: string, width: number): string[] {
  if (width <= 0 || stringWidth(text) <= width) return [text];
  const lines: string[] = [];
  let current = '';
  const push = (): void => {
    lines.push(current.trimEnd());
    current = '';
  };
  for (const word of text.split(/(?<= )/)) {
    if (stringWidth(current + word.trimEnd()) <= width) {
      current += word;
      continue;
    }
    if (current !== '') push();
    if (stringWidth(word.trimEnd()) <= width) {
      current = word;
      continue;
    }
    for (const { segment } of graphemes.segment(word)) {
      if (stringWidth(current + segment) > width && current !== '') push();
      current += segment;
    }
  }
  if (current.trimEnd() !== '') push();
  return lines;
}
