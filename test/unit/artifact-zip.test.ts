import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicZip, extractZip, lambdaCodeSha256, listZipEntries, sha256Hex, unzippedSize } from '../../src/artifact/zip.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-zip-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sampleEntries(): { path: string; data: Buffer; mode?: number }[] {
  return [
    { path: 'nodejs/node_modules/b/index.js', data: Buffer.from('module.exports = "b";\n') },
    { path: 'index.mjs', data: Buffer.from('export const handler = async () => 42;\n'.repeat(50)) },
    { path: 'nodejs/node_modules/a/bin/cli.js', data: Buffer.from('#!/usr/bin/env node\n'), mode: 0o755 },
    { path: 'nodejs/node_modules/a/package.json', data: Buffer.from('{"name":"a"}') },
  ];
}

function firstEntryDate(buf: Buffer): Promise<Date> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (error, zip) => {
      if (error) { reject(error); return; }
      zip.on('entry', (entry: yauzl.Entry) => {
        resolve(entry.getLastModDate());
        zip.close();
      });
      zip.readEntry();
    });
  });
}

describe('deterministicZip', () => {
  it('gives the same bytes for the same entries, whatever their order and the time of day', async () => {
    const first = await deterministicZip(sampleEntries());
    await new Promise((resolve) => setTimeout(resolve, 1100)); // cross a DOS-time second boundary (2 s resolution)
    const second = await deterministicZip(sampleEntries().reverse());
    expect(second.equals(first)).toBe(true);
    expect(sha256Hex(second)).toBe(sha256Hex(first));
  });

  it('gives the same bytes in every time zone', async () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'America/Los_Angeles';
      const west = await deterministicZip(sampleEntries());
      process.env.TZ = 'Asia/Tokyo';
      const east = await deterministicZip(sampleEntries());
      expect(east.equals(west)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('sorts entries by path, fixes modes and the timestamp, and writes no directory entries', async () => {
    const zip = await deterministicZip(sampleEntries());
    const entries = await listZipEntries(zip);
    expect(entries.map((e) => e.path)).toEqual([
      'index.mjs',
      'nodejs/node_modules/a/bin/cli.js',
      'nodejs/node_modules/a/package.json',
      'nodejs/node_modules/b/index.js',
    ]);
    expect(entries.map((e) => e.mode.toString(8))).toEqual(['100644', '100755', '100644', '100644']);
    expect(entries.some((e) => e.isDirectory || e.isSymlink)).toBe(false);
    const date = await firstEntryDate(zip);
    expect([date.getFullYear(), date.getMonth(), date.getDate(), date.getHours(), date.getMinutes()]).toEqual([2000, 0, 1, 0, 0]);
    expect(await unzippedSize(zip)).toBe(sampleEntries().reduce((sum, e) => sum + e.data.length, 0));
  });

  it('reads entries given as file paths, and the result unzips to the same contents', async () => {
    const source = path.join(dir, 'source.txt');
    await writeFile(source, 'from a file\n');
    const zip = await deterministicZip([{ path: 'data/source.txt', data: source }, { path: 'inline.txt', data: Buffer.from('inline\n') }]);
    const out = path.join(dir, 'out');
    await extractZip(zip, out);
    expect(await readFile(path.join(out, 'data/source.txt'), 'utf8')).toBe('from a file\n');
    expect(await readFile(path.join(out, 'inline.txt'), 'utf8')).toBe('inline\n');
    expect((await stat(path.join(out, 'data/source.txt'))).mode & 0o777).toBe(0o644);
  });

  it('refuses paths that are absolute, escape, or repeat', async () => {
    await expect(deterministicZip([{ path: '/etc/passwd', data: Buffer.from('x') }])).rejects.toThrow(/Invalid zip entry path/);
    await expect(deterministicZip([{ path: 'a/../../b', data: Buffer.from('x') }])).rejects.toThrow(/Invalid zip entry path/);
    await expect(deterministicZip([{ path: 'a\\b', data: Buffer.from('x') }])).rejects.toThrow(/Invalid zip entry path/);
    await expect(
      deterministicZip([
        { path: 'same', data: Buffer.from('1') },
        { path: 'same', data: Buffer.from('2') },
      ]),
    ).rejects.toThrow(/Duplicate zip entry: same/);
  });
});

describe('hashes', () => {
  it("gives Lambda's CodeSha256 as the base64 form of the SHA-256", () => {
    const bytes = Buffer.from('function code');
    const hex = createHash('sha256').update(bytes).digest('hex');
    expect(sha256Hex(bytes)).toBe(hex);
    expect(lambdaCodeSha256(bytes)).toBe(Buffer.from(hex, 'hex').toString('base64'));
  });
});
