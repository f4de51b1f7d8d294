import { describe, expect, it } from 'vitest';
import { JsonArrayWriter } from '../../src/ui/json-array-writer.js';
import { parseSourceKey } from '../../src/operations/metadata.js';
import { formatProcessedAt, StreamingTable } from '../../src/ui/metadata.js';
import { formatBytes } from '../../src/ui/format.js';

function collect(): { lines: string[]; text: () => string } {
  const lines: string[] = [];
  return { lines, text: () => lines.map((l) => `${l}\n`).join('') };
}

describe('JsonArrayWriter', () => {
  const items = [{ ImageID: 's3://b/a', Outputs: [{ Size: 'thumb', Width: 1 }] }, { ImageID: 's3://b/é "q"' }, { n: 3 }];

  it.each([0, 1, 3])('writes exactly what JSON.stringify writes for %i items', (n) => {
    const out = collect();
    const writer = new JsonArrayWriter((t) => out.lines.push(t));
    for (const value of items.slice(0, n)) writer.write(value);
    writer.close();
    expect(out.text()).toBe(`${JSON.stringify(items.slice(0, n), null, 2)}\n`);
    expect(JSON.parse(out.text())).toEqual(items.slice(0, n));
    expect(writer.written).toBe(n);
  });

  it('has written each element (all but its closing line) before the next one is given', () => {
    const out = collect();
    const writer = new JsonArrayWriter((t) => out.lines.push(t));
    writer.write({ first: true });
    expect(out.text()).toContain('"first": true');
    writer.write({ second: true });
    expect(out.text()).toContain('"second": true');
    writer.close();
    writer.close();
    expect(() => { writer.write({}); }).toThrow(/after close/);
    expect(JSON.parse(out.text())).toEqual([{ first: true }, { second: true }]);
  });
});

describe('StreamingTable', () => {
  it('sizes columns from the first batch and cuts later cells to fit', () => {
    const out = collect();
    const table = new StreamingTable(['File', 'Status', 'Note'], (l) => out.lines.push(l), 12);
    expect(table.started).toBe(false);
    table.add([]);
    expect(out.lines).toEqual([]);
    table.add([['a.jpg', 'SUCCEEDED', 'x'], ['été à Paris.jpg', 'FAILED', 'CORRUPT_IMAGE']]);
    table.add([['a-very-long-key-name.jpg', 'SUCCEEDED', 'last column is never cut']]);
    expect(out.lines).toEqual([
      'File          Status     Note',
      '------------  ---------  ------------',
      'a.jpg         SUCCEEDED  x',
      'été à Paris…  FAILED     CORRUPT_IMAGE',
      'a-very-long…  SUCCEEDED  last column is never cut',
    ]);
  });
});

describe('small formatters', () => {
  it('formats times, sizes and source keys', () => {
    expect(formatProcessedAt('2025-03-04T05:06:07.890Z')).toBe('2025-03-04 05:06:07');
    expect(formatProcessedAt(undefined)).toBe('-');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(12_345)).toBe('12.1 KB');
    expect(formatBytes(1_234_567)).toBe('1.18 MB');
    expect(parseSourceKey('photos/a b.jpg', 'src')).toEqual({ bucket: 'src', key: 'photos/a b.jpg' });
    expect(parseSourceKey('s3://other/photos/a.jpg', 'src')).toEqual({ bucket: 'other', key: 'photos/a.jpg' });
  });
});
