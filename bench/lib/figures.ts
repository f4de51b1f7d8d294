/** The figures a bench run produces, and the one table they are printed as. */

export interface Figure {
  /** Group heading: "Image core", "Peak memory", ... */
  section: string;
  /** What was measured, e.g. "ours, 1 size". */
  name: string;
  /** Printed result, e.g. "41.2 img/s", or "n/a (reason)". */
  result: string;
  /** The target, stated as text, e.g. "≤ 1.15×"; empty when there is none. */
  target: string;
  /** Whether the target was met; undefined without a target or a measurement. */
  pass: boolean | undefined;
  /** How it was measured, in one line. */
  method: string;
  /** The raw number behind `result`, for --json. */
  value?: number | undefined;
  unit?: string | undefined;
}

export function figure(section: string, name: string, fields: Partial<Omit<Figure, 'section' | 'name'>> & Pick<Figure, 'result' | 'method'>): Figure {
  return { section, name, target: '', pass: undefined, ...fields };
}

/** A row for a part that could not run: the table says why instead of the bench crashing. */
export function notAvailable(section: string, name: string, reason: string, method: string, target = ''): Figure {
  return { section, name, result: `n/a (${oneLine(reason)})`, target, pass: undefined, method };
}

/** First line of a message, shortened so one failure cannot swamp the table. */
export function oneLine(text: string, max = 90): string {
  const first = text.trim().split('\n')[0]?.trim() ?? '';
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

export function verdict(pass: boolean | undefined): string {
  if (pass === undefined) return '';
  return pass ? 'pass' : 'FAIL';
}

function targetCell(row: Figure): string {
  if (row.target === '') return '';
  const word = verdict(row.pass);
  return word === '' ? row.target : `${row.target} ${word}`;
}

const HEADERS = ['Figure', 'Result', 'Target', 'Method'];

/** The table for a terminal: aligned columns, a heading line per section. */
export function renderTextTable(rows: readonly Figure[]): string {
  const cells = rows.map((row) => [`  ${row.name}`, row.result, targetCell(row), row.method]);
  const widths = HEADERS.map((header, i) => Math.max(header.length, ...cells.map((c) => (c[i] ?? '').length)));
  const format = (line: readonly string[]): string => line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const lines = [format(HEADERS), format(widths.map((w) => '-'.repeat(w)))];
  let section: string | undefined;
  rows.forEach((row, i) => {
    if (row.section !== section) {
      section = row.section;
      lines.push(section);
    }
    lines.push(format(cells[i] ?? []));
  });
  return lines.join('\n');
}

function escapeMarkdown(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** The same table as Markdown, for bench/RESULTS.md. */
export function renderMarkdownTable(rows: readonly Figure[]): string {
  const lines = [`| ${HEADERS.join(' | ')} |`, `| ${HEADERS.map(() => '---').join(' | ')} |`];
  let section: string | undefined;
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      lines.push(`| **${escapeMarkdown(section)}** | | | |`);
    }
    lines.push(`| ${[row.name, row.result, targetCell(row), row.method].map(escapeMarkdown).join(' | ')} |`);
  }
  return lines.join('\n');
}
