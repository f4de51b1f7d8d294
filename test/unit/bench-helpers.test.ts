import { describe, expect, it } from 'vitest';
import type { CorpusFile } from '../../bench/lib/corpus.js';
import { figure, notAvailable, renderMarkdownTable, renderTextTable } from '../../bench/lib/figures.js';
import { chooseFiles, makePlan, smallest } from '../../bench/lib/plan.js';
import { formatBytes, formatRatio, formatRssKib, median, pairedRatio, ratePerSecond, rotate, shuffled } from '../../bench/lib/stats.js';

function file(name: string, bytes: number): CorpusFile {
  const extension = name.slice(name.lastIndexOf('.'));
  return { name, path: `/corpus/${name}`, bytes, extension };
}

describe('bench statistics', () => {
  it('takes the median of odd and even counts without reordering the input', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('pairs ratios round by round, so a slow round moves both sides together', () => {
    // Round 2 ran on a busy machine: both engines slowed down by 3x, the ratio did not.
    expect(pairedRatio([110, 330, 112], [100, 300, 100])).toBeCloseTo(1.1);
    expect(() => pairedRatio([], [])).toThrow();
  });

  it('rotates the engine order each round', () => {
    expect(rotate(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotate(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotate(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
    expect(rotate([], 3)).toEqual([]);
  });

  it('shuffles deterministically, into a permutation that varies with the seed', () => {
    const items = ['bare', 'ours', 'naive', 'jimp', 'pillow'];
    expect(shuffled(items, 7)).toEqual(shuffled(items, 7));
    expect([...shuffled(items, 7)].sort()).toEqual([...items].sort());
    const orders = new Set(Array.from({ length: 20 }, (_, seed) => shuffled(items, seed).join()));
    expect(orders.size).toBeGreaterThan(10);
    expect(items).toEqual(['bare', 'ours', 'naive', 'jimp', 'pillow']);
  });

  it('formats rates, ratios, sizes and peak RSS', () => {
    expect(ratePerSecond(18, 1500)).toBe(12);
    expect(formatRatio(1.0449)).toBe('1.04×');
    expect(formatBytes(153_600)).toBe('150 KB');
    expect(formatBytes(8.19 * 1024 * 1024)).toBe('8.19 MB');
    expect(formatRssKib(186_368)).toBe('182 MB');
  });
});

describe('bench file choice', () => {
  const corpus = [
    file('Big.jpg', 16_000_000),
    file('a.jpg', 100),
    file('b.webp', 50),
    file('Elephants_5640x3172.jpg', 16_376_668),
    file('c.png', 3_000_000),
    file('d.png', 200),
  ];

  it('picks the smallest files, keeping corpus order', () => {
    expect(smallest(corpus, 2)).toEqual([1, 2]);
    expect(smallest(corpus, 2, (f) => f.extension !== '.webp')).toEqual([1, 5]);
  });

  it('gives jimp no WebP and no large files, and times the largest photo only in the full run', () => {
    const full = chooseFiles(corpus, makePlan({ quick: false, e2e: true }));
    expect(full.sharp).toEqual([0, 1, 2, 3, 4, 5]);
    expect(full.jimp).toEqual([1, 5]);
    expect(full.largest).toBe(3);
    const quick = chooseFiles(corpus, makePlan({ quick: true, e2e: true }));
    expect(quick.largest).toBeUndefined();
    expect(quick.jimp.every((i) => corpus[i]?.extension !== '.webp')).toBe(true);
  });
});

describe('bench table', () => {
  const rows = [
    figure('Section A', 'ours', { result: '10 img/s', method: 'timed' }),
    figure('Section A', 'ratio', { result: '1.05×', target: '≤ 1.15×', pass: true, method: 'paired' }),
    notAvailable('Section B', 'pillow', 'pip install pillow failed: no network\nmore detail', 'python3'),
  ];

  it('prints one table with a heading per section, verdicts, and n/a with the reason', () => {
    const text = renderTextTable(rows);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Figure\s+Result\s+Target\s+Method$/);
    expect(lines).toContain('Section A');
    expect(text).toMatch(/ratio\s+1\.05×\s+≤ 1\.15× pass\s+paired/);
    expect(text).toContain('n/a (pip install pillow failed: no network)');
    expect(text).not.toContain('more detail');
  });

  it('renders Markdown with escaped pipes', () => {
    const markdown = renderMarkdownTable([figure('S', 'a|b', { result: 'x', method: 'm' })]);
    expect(markdown.split('\n')).toEqual(['| Figure | Result | Target | Method |', '| --- | --- | --- | --- |', '| **S** | | | |', '| a\\|b | x |  | m |']);
  });
});
