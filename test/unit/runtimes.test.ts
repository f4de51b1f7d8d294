import { describe, expect, it } from 'vitest';
import {
  DEPRECATION_WARNING_DAYS,
  LAMBDA_RUNTIMES,
  defaultRuntime,
  isLambdaRuntime,
  runtimeInfo,
  runtimeWarning,
  supportedRuntimes,
} from '../../src/runtimes.js';

const day = (iso: string): Date => new Date(`${iso}T12:00:00Z`);

describe('the supported Lambda runtimes', () => {
  it('are nodejs22.x and nodejs24.x, each with its Node major and esbuild target', () => {
    expect(LAMBDA_RUNTIMES).toEqual(['nodejs22.x', 'nodejs24.x']);
    expect(runtimeInfo('nodejs22.x')).toMatchObject({ nodeMajor: 22, esbuildTarget: 'node22' });
    expect(runtimeInfo('nodejs24.x')).toMatchObject({ nodeMajor: 24, esbuildTarget: 'node24' });
  });

  it('have lifecycle dates in order: deprecation, then block create, then block update', () => {
    for (const info of supportedRuntimes()) {
      expect(info.deprecation < info.blockFunctionCreate, info.id).toBe(true);
      expect(info.blockFunctionCreate < info.blockFunctionUpdate, info.id).toBe(true);
      for (const date of [info.deprecation, info.blockFunctionCreate, info.blockFunctionUpdate]) {
        expect(Number.isNaN(Date.parse(date)), date).toBe(false);
      }
    }
  });

  it('recognises runtime identifiers', () => {
    expect(isLambdaRuntime('nodejs24.x')).toBe(true);
    expect(isLambdaRuntime('nodejs20.x')).toBe(false);
    expect(isLambdaRuntime('python3.13')).toBe(false);
  });
});

describe('defaultRuntime', () => {
  it('is the newest runtime every part of the pipeline supports', () => {
    expect(defaultRuntime()).toBe('nodejs24.x');
  });

  it('falls back when a part of the pipeline does not support the newest major', () => {
    expect(defaultRuntime(supportedRuntimes(), [20, 22])).toBe('nodejs22.x');
  });

  it('fails when no runtime fits', () => {
    expect(() => defaultRuntime(supportedRuntimes(), [18])).toThrow(/No Lambda runtime/);
  });
});

describe('runtimeWarning', () => {
  it('says nothing while deprecation is more than 90 days away', () => {
    expect(runtimeWarning('nodejs22.x', day('2026-11-29'))).toBeUndefined();
    expect(runtimeWarning('nodejs24.x', day('2027-06-01'))).toBeUndefined();
    // 91 days before 2027-04-30.
    expect(runtimeWarning('nodejs22.x', day('2027-01-29'))).toBeUndefined();
  });

  it('warns from 90 days before deprecation, naming the dates and the runtime to switch to', () => {
    const warning = runtimeWarning('nodejs22.x', day('2027-01-30'));
    expect(warning).toMatchObject({ runtime: 'nodejs22.x', level: 'deprecating', daysToDeprecation: DEPRECATION_WARNING_DAYS });
    expect(warning?.message).toContain('2027-04-30');
    expect(warning?.message).toContain('in 90 days');
    expect(warning?.suggestion).toContain('--runtime nodejs24.x');
    expect(warning?.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/lambda\//);
    expect(runtimeWarning('nodejs22.x', day('2027-04-29'))?.message).toContain('(in 1 day)');
  });

  it('escalates once deprecated, once creation is blocked and once updates are blocked', () => {
    expect(runtimeWarning('nodejs22.x', day('2027-04-30'))).toMatchObject({ level: 'deprecated', daysToDeprecation: 0 });
    expect(runtimeWarning('nodejs22.x', day('2027-06-01'))?.level).toBe('create-blocked');
    expect(runtimeWarning('nodejs22.x', day('2027-07-01'))?.level).toBe('update-blocked');
    expect(runtimeWarning('nodejs22.x', day('2030-01-01'))?.daysToDeprecation).toBeLessThan(0);
  });

  it('counts whole UTC days whatever the time of day', () => {
    const early = runtimeWarning('nodejs24.x', new Date('2028-04-01T00:00:01Z'));
    const late = runtimeWarning('nodejs24.x', new Date('2028-04-01T23:59:59Z'));
    expect(early?.daysToDeprecation).toBe(29);
    expect(late?.daysToDeprecation).toBe(29);
  });

  it('tells the operator to update img-resizer when even the newest runtime nears deprecation', () => {
    expect(runtimeWarning('nodejs24.x', day('2028-03-01'))?.suggestion).toMatch(/update img-resizer/);
  });

  it('flags a runtime img-resizer does not support (an older function found by status)', () => {
    expect(runtimeWarning('nodejs20.x', day('2026-11-29'))).toMatchObject({
      runtime: 'nodejs20.x',
      level: 'unsupported',
      daysToDeprecation: undefined,
    });
  });
});
