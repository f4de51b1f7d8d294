import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { summaryTable } from '../../src/ui/provision.js';
import { Output } from '../../src/ui/output.js';
import { renderTable, wrapCells } from '../../src/ui/table.js';
import type { StepResult } from '../../src/provision/types.js';

const HEADERS = ['Resource', 'Name', 'State', 'Detail'];
const ROWS = [
  ['source bucket', 'img-resizer-prod-source-123456789012-eu-west-1', 'OK', 'versioning on, encryption SSE-S3, public access blocked, lifecycle: abort incomplete uploads after 7 days'],
  ['function', 'img-resizer-prod-resize', 'DIFFERS', 'environment OUTPUT_FORMAT webp → avif, SIZES thumb=200,medium=800 → thumb=150,medium=800,large=1600'],
  ['table', 'img-resizer-prod-metadata', 'MISSING', ''],
];

function widest(text: string): number {
  return Math.max(...text.split('\n').map((line) => stringWidth(line)));
}

describe('tables fit the terminal', () => {
  it.each([80, 100, 190])('at %i columns no line is wider than the terminal and no word of the detail is lost', (columns) => {
    const table = renderTable(HEADERS, ROWS, { width: columns, shrink: [3, 1] });
    expect(widest(table)).toBeLessThanOrEqual(columns);
    const words = new Set(table.split(/\s+/));
    for (const row of ROWS) for (const word of (row[3] ?? '').split(' ').filter((w) => w.length > 0 && w.length < 20)) expect(words).toContain(word);
    for (const row of ROWS) expect(table).toContain((row[1] ?? '').slice(0, 10));
    // The short, always-read columns keep each value on one line.
    expect(table).toMatch(/^function\s+\S.*\s+DIFFERS\s/m);
  });

  it('at 190 columns the resource names stay whole and only the detail wraps', () => {
    const table = renderTable(HEADERS, ROWS, { width: 190, shrink: [3, 1] });
    expect(table).toContain('img-resizer-prod-source-123456789012-eu-west-1  OK');
  });

  it('without a width (--wide, or a pipe) every row is one line', () => {
    const table = renderTable(HEADERS, ROWS);
    expect(table.split('\n')).toHaveLength(2 + ROWS.length);
    expect(widest(table)).toBeGreaterThan(150);
  });

  it('counts emoji and CJK in terminal cells, so the columns stay in line', () => {
    const table = renderTable(['Key', 'Bytes'], [['🌅 sunrise.jpg', '10 KB'], ['写真/山.jpg', '20 KB'], ['plain.jpg', '30 KB']]);
    // Where the BYTES column starts, in cells, on every row.
    const starts = table.split('\n').slice(2).map((line) => stringWidth(line.slice(0, line.search(/\d+ KB$/))));
    expect(new Set(starts).size).toBe(1);
  });

  it('wraps at spaces and inside a word only when one is too long', () => {
    expect(wrapCells('versioning on, encryption SSE-S3', 16)).toEqual(['versioning on,', 'encryption', 'SSE-S3']);
    expect(wrapCells('abcdefghijklmnop', 6)).toEqual(['abcdef', 'ghijkl', 'mnop']);
    expect(wrapCells('写真写真写真', 5).every((line) => stringWidth(line) <= 5)).toBe(true);
  });

  it('the init summary fits 100 columns', () => {
    const results = ROWS.map(([resource, name, , detail]) => ({
      step: resource, resource, name, action: 'update', status: 'planned', reason: detail, detail, changes: [detail],
    })) as unknown as StepResult[];
    const output = new Output({ json: false, debug: false, columns: 100, interactive: false });
    expect(widest(summaryTable(results, 'deploy', { width: output.tableWidth }))).toBeLessThanOrEqual(100);
    expect(new Output({ json: false, debug: false, columns: 100, wide: true }).tableWidth).toBeUndefined();
  });
});
