import { describe, expect, it } from 'vitest';
import { costOf } from '../../bench/sections/cost.js';
import { UsageError } from '../../src/errors.js';
import { dollarsPerMillion } from '../../src/pricing.js';
import { parseInvocationReport } from '../../src/operations/report-line.js';
import { markChoices, validateMemorySizes, type TuneRow } from '../../src/operations/tune.js';

// Log tails as AWS returns them (LogType Tail, base64-decoded): the text form, and the JSON form that init's
// LoggingConfig (LogFormat JSON) gives.
const TEXT_TAIL = [
  'START RequestId: 6f0c1b2a-1111-2222-3333-444455556666 Version: $LATEST',
  '2026-11-29T09:00:00.000Z\t6f0c1b2a-1111-2222-3333-444455556666\tINFO\tprocessed photo.jpg',
  'END RequestId: 6f0c1b2a-1111-2222-3333-444455556666',
  'REPORT RequestId: 6f0c1b2a-1111-2222-3333-444455556666\tDuration: 812.34 ms\tBilled Duration: 813 ms\tMemory Size: 1024 MB\tMax Memory Used: 187 MB\tInit Duration: 402.50 ms\t',
  '',
].join('\n');

const JSON_TAIL = [
  // The tail is the last 4 KB: its first line may be cut.
  'uestId":"abc","version":"$LATEST"}}',
  '{"timestamp":"2026-11-29T09:00:00.100Z","level":"INFO","requestId":"abc","message":"processed"}',
  '{"time":"2026-11-29T09:00:00.900Z","type":"platform.runtimeDone","record":{"requestId":"abc","status":"success"}}',
  '{"time":"2026-11-29T09:00:00.901Z","type":"platform.report","record":{"requestId":"abc","metrics":{"durationMs":95.5,"billedDurationMs":96,"memorySizeMB":512,"maxMemoryUsedMB":140},"status":"success"}}',
].join('\n');

describe('the REPORT line of a log tail', () => {
  it('reads the text form, telling Duration from Billed and Init Duration', () => {
    expect(parseInvocationReport(TEXT_TAIL)).toEqual({ durationMs: 812.34, billedDurationMs: 813, memorySizeMb: 1024, maxMemoryUsedMb: 187, initDurationMs: 402.5 });
  });

  it('reads the JSON form (platform.report) and skips a cut first line', () => {
    expect(parseInvocationReport(JSON_TAIL)).toEqual({ durationMs: 95.5, billedDurationMs: 96, memorySizeMb: 512, maxMemoryUsedMb: 140, initDurationMs: undefined });
  });

  it('is absent when the tail has only the function\'s own output (MiniStack)', () => {
    expect(parseInvocationReport('processed photo.jpg\n')).toBeUndefined();
    expect(parseInvocationReport('')).toBeUndefined();
  });
});

function row(memoryMb: number, medianDurationMs: number, cost: number, error?: string): TuneRow {
  return {
    memoryMb, invocations: 5, medianDurationMs, billedMs: medianDurationMs, maxMemoryUsedMb: 100, dollarsPerMillion: cost, measuredBy: 'report',
    ...(error === undefined ? {} : { error }), cheapest: false, fastest: false,
  };
}

describe('tune choices', () => {
  it('marks the cheapest and the fastest, leaving failed sizes out', () => {
    const rows = [row(128, 900, 0.5, 'Runtime.OutOfMemory on a.jpg'), row(512, 400, 3.5), row(1024, 150, 2.7), row(3008, 90, 4.6)];
    const { cheapest, fastest } = markChoices(rows);
    expect(cheapest?.memoryMb).toBe(1024);
    expect(fastest?.memoryMb).toBe(3008);
    expect(rows.map((r) => [r.cheapest, r.fastest])).toEqual([[false, false], [false, false], [true, false], [false, true]]);
  });

  it('breaks a cost tie by speed', () => {
    const rows = [row(512, 400, 2), row(1024, 200, 2)];
    expect(markChoices(rows).cheapest?.memoryMb).toBe(1024);
  });

  it('takes memory sizes in Lambda\'s range, each once, ascending', () => {
    expect(validateMemorySizes([3008, 512, 1024, 512])).toEqual([512, 1024, 3008]);
    expect(() => validateMemorySizes([64])).toThrow(UsageError);
    expect(() => validateMemorySizes([10_241])).toThrow(UsageError);
    expect(() => validateMemorySizes([])).toThrow(UsageError);
  });

  it('prices an invocation as the bench\'s cost model does (one set of prices)', () => {
    const bench = costOf(1769, [250]);
    expect(dollarsPerMillion(1769, 250, 'x86_64')).toBeCloseTo(bench.x86PerMillion, 10);
    expect(dollarsPerMillion(1769, 250, 'arm64')).toBeCloseTo(bench.arm64PerMillion, 10);
    // 1 GB for 1 s on x86_64: $16.6667 per million, plus $0.20 of requests.
    expect(dollarsPerMillion(1024, 1000, 'x86_64')).toBeCloseTo(16.8667, 4);
  });
});
