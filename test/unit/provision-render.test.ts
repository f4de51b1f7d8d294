import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { StackSettings } from '../../src/config/settings.js';
import { destroyOptionsFrom } from '../../src/commands/destroy.js';
import { initOptionsFrom } from '../../src/commands/init.js';
import { CliError } from '../../src/errors.js';
import type { InitResult } from '../../src/operations/init.js';
import type { ProvisionOp } from '../../src/provision/steps.js';
import type { StepResult } from '../../src/provision/types.js';
import { Output } from '../../src/ui/output.js';
import { renderInit } from '../../src/ui/provision.js';

const settings: StackSettings = {
  stackName: 'demo', sourceBucket: 'demo-source', destBucket: 'demo-dest', table: 'demo-metadata', functionName: 'demo-resize',
  roleName: 'demo-function-role', layerName: 'demo-sharp', sizes: 'thumbnail=300x300', format: 'png', fit: 'cover', arch: 'x86_64',
  memory: 1024, timeout: 60,
};

function captured(json = false) {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  return {
    output: new Output({ json, debug: false, stdout: out, stderr: err, interactive: false }),
    stdout: () => Buffer.concat(chunks.out).toString('utf8'),
    stderr: () => Buffer.concat(chunks.err).toString('utf8'),
  };
}

const sizesChange: StepResult<ProvisionOp> = {
  id: 'function',
  resource: 'Function',
  name: 'demo-resize',
  action: 'update',
  reason: 'environment SIZES',
  ops: [{ kind: 'update-config', changes: [{ field: 'environment', variables: [{ name: 'SIZES', from: 'thumbnail=200x200', to: 'thumbnail=300x300' }] }] }],
  changes: ['environment SIZES'],
  status: 'planned',
  durationMs: 3,
};

function initResult(steps: StepResult<ProvisionOp>[], outcome: InitResult['outcome']): InitResult {
  return { exitCode: 0, outcome, dryRun: true, upToDate: false, settings, settingsFile: 'img-resizer.config.json', settingsWritten: false, sources: {}, commandLine: 'npx img-resizer', steps };
}

describe('init --dry-run output', () => {
  it('shows old and new values of a changed environment, and that processed images keep their outputs', () => {
    const { output, stdout, stderr } = captured();
    renderInit(output, initResult([sizesChange], 'planned'));
    expect(stdout()).toMatch(/Function\s+demo-resize\s+will update\s+environment SIZES/);
    expect(stdout()).toContain('Function: environment SIZES: thumbnail=200x200 → thumbnail=300x300');
    expect(stderr()).toContain('Images already processed keep their old outputs (sizes, format, fit, quality, upscaling, background); `img-resizer backfill --force` redoes them.');
    expect(stdout()).toContain('Dry run: nothing was changed.');
  });

  it('shows a blocked step with its reason', () => {
    const { output, stdout, stderr } = captured();
    const blockedStep: StepResult<ProvisionOp> = {
      ...sizesChange, id: 'table', resource: 'Metadata table', name: 'demo-metadata', action: 'blocked', status: 'blocked', ops: [], changes: [],
      reason: 'The table "demo-metadata" exists with key id (HASH), not the hash key ImageID (S) the pipeline writes.', error: 'TABLE_KEY_SCHEMA_CONFLICT',
    };
    renderInit(output, initResult([blockedStep], 'blocked'));
    expect(stdout()).toMatch(/Metadata table\s+demo-metadata\s+blocked\s+The table "demo-metadata" exists with key id \(HASH\)/);
    expect(stderr()).toContain('a real run would stop at the blocked step above');
  });

  it('under --json, prints each step with its ops and their text', () => {
    const { output, stdout } = captured(true);
    renderInit(output, initResult([sizesChange], 'planned'));
    const document = JSON.parse(stdout()) as { outcome: string; steps: { ops: unknown[]; changes: string[] }[] };
    expect(document.outcome).toBe('planned');
    expect(document.steps[0]).toMatchObject({ ops: sizesChange.ops, changes: ['environment SIZES'] });
  });
});

describe('command options', () => {
  it('are read into typed options, checked rather than cast', () => {
    expect(initOptionsFrom({ dryRun: true, memory: 2048, format: 'webp', triggerPrefix: 'uploads/' })).toMatchObject({
      dryRun: true, memory: 2048, format: 'webp', prefix: 'uploads/', suffix: undefined,
    });
    // commander's argParsers refuse bad input first: a value of the wrong type here is a declaration bug.
    expect(() => initOptionsFrom({ memory: '2048' })).toThrow(CliError);
    expect(() => initOptionsFrom({ format: 'gif' })).toThrow(/format was parsed as something other than one of/);
    expect(destroyOptionsFrom({ dryRun: true })).toEqual({ dryRun: true, keepBuckets: false, noWait: false });
    // commander turns --no-wait into wait: false.
    expect(destroyOptionsFrom({ wait: false })).toMatchObject({ noWait: true });
    expect(initOptionsFrom({ cdn: true, cdnPriceClass: 'PriceClass_200', cdnAlias: 'img.example.com', waitCdn: true, cacheControl: 'public, max-age=60' })).toMatchObject({
      cdn: true, cdnPriceClass: 'PriceClass_200', cdnAliases: 'img.example.com', waitCdn: true, cacheControl: 'public, max-age=60',
    });
    expect(initOptionsFrom({ cdn: false }).cdn).toBe(false);
    expect(initOptionsFrom({}).cdn).toBeUndefined();
    expect(() => initOptionsFrom({ cdnPriceClass: 'PriceClass_1' })).toThrow(/cdnPriceClass was parsed as something other than one of/);
  });
});
