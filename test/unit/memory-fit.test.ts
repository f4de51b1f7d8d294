import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { maxPixelsForMemory } from '../../lambda-src/core/pixel-limit.js';
import type { StackSettings } from '../../src/config/settings.js';
import type { InitResult } from '../../src/operations/init.js';
import { memoryFitWarning, memoryForPixels } from '../../src/operations/memory-fit.js';
import { Output } from '../../src/ui/output.js';
import { renderInit } from '../../src/ui/provision.js';

const settings: StackSettings = {
  stackName: 'demo', sourceBucket: 'demo-source', destBucket: 'demo-dest', table: 'demo-metadata', functionName: 'demo-resize',
  roleName: 'demo-function-role', layerName: 'demo-sharp', sizes: 'thumbnail=300x300', format: 'png', fit: 'cover', arch: 'x86_64',
  memory: 512, timeout: 60,
};

describe('init: memory vs pixel limit (issue 20 item 8)', () => {
  it('warns when the limit lets through images whose worst decode does not fit the memory, naming both ways out', () => {
    const warning = memoryFitWarning({ memory: 512, maxPixels: 100_000_000 });
    expect(warning?.code).toBe('PIXEL_LIMIT_EXCEEDS_MEMORY');
    expect(warning?.message).toContain('The pixel limit (100 MP) does not fit the function\'s memory (512 MB)');
    expect(warning?.message).toContain(`512 MB holds ${(maxPixelsForMemory(512) / 1e6).toFixed(0)} MP`);
    const needed = memoryForPixels(100_000_000);
    expect(warning?.suggestion).toContain(`--memory ${needed} or more`);
    expect(warning?.suggestion).toContain(`${maxPixelsForMemory(512)} or less`);
    // The memory it names is the smallest that holds the limit by the function's own rule.
    expect(maxPixelsForMemory(needed)).toBeGreaterThanOrEqual(100_000_000);
    expect(maxPixelsForMemory(needed - 1)).toBeLessThan(100_000_000);
  });

  it('says nothing when the limit fits, or is unset (the function then follows its memory)', () => {
    expect(memoryFitWarning({ memory: 1769, maxPixels: maxPixelsForMemory(1769) })).toBeUndefined();
    expect(memoryFitWarning({ memory: 512, maxPixels: 20_000_000 })).toBeUndefined();
    expect(memoryFitWarning({ memory: 128 })).toBeUndefined();
    expect(memoryFitWarning(settings)).toBeUndefined();
  });

  it('a limit beyond what any Lambda memory holds says so', () => {
    expect(memoryFitWarning({ memory: 512, maxPixels: 2_000_000_000 })?.suggestion).toMatch(/^No Lambda memory size holds it/);
  });

  it('init renders the warning (stderr, not an error) and carries it in --json', () => {
    const warning = memoryFitWarning({ memory: 512, maxPixels: 100_000_000 });
    const result: InitResult = {
      exitCode: 0, outcome: 'up-to-date', dryRun: false, upToDate: true, settings, settingsFile: 'img-resizer.config.json',
      settingsWritten: false, sources: {}, commandLine: 'npx img-resizer', steps: [], warnings: warning ? [warning] : [],
    };
    for (const json of [false, true]) {
      const out = new PassThrough();
      const err = new PassThrough();
      const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
      out.on('data', (c: Buffer) => chunks.out.push(c));
      err.on('data', (c: Buffer) => chunks.err.push(c));
      renderInit(new Output({ json, debug: false, stdout: out, stderr: err, interactive: false }), result);
      const stdout = Buffer.concat(chunks.out).toString('utf8');
      const stderr = Buffer.concat(chunks.err).toString('utf8');
      if (json) expect((JSON.parse(stdout) as { warnings: { code: string }[] }).warnings[0]?.code).toBe('PIXEL_LIMIT_EXCEEDS_MEMORY');
      else {
        expect(stderr).toContain('does not fit the function\'s memory (512 MB)');
        expect(stdout).toContain('Everything is up to date');
      }
    }
  });
});
