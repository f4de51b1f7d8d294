import { describe, expect, it } from 'vitest';
import { chooseDefault, costOf, LAMBDA_PRICES } from '../../bench/sections/cost.js';

describe('bench cost model', () => {
  it('bills each invocation rounded up to the millisecond, in GB-seconds of the configured memory, plus the request charge', () => {
    const cost = costOf(1024, [99.2, 100.5]);
    // ceil: 100 and 101 ms, mean 100.5 ms, at 1 GB.
    expect(cost.msPerImage).toBe(100.5);
    expect(cost.gbSecondsPerImage).toBeCloseTo(0.1005, 10);
    expect(cost.x86PerMillion).toBeCloseTo(0.1005 * LAMBDA_PRICES.x86PerGbSecond * 1e6 + 0.2, 8);
    expect(cost.arm64PerMillion).toBeCloseTo(0.1005 * LAMBDA_PRICES.arm64PerGbSecond * 1e6 + 0.2, 8);
    expect(cost.arm64PerMillion).toBeLessThan(cost.x86PerMillion);
  });

  it('chooses the cheapest setting, or the fastest of those within 5% of it', () => {
    const slowCheap = { name: 'a', cost: costOf(512, [200]) };
    const fastNearlyAsCheap = { name: 'b', cost: costOf(1024, [101]) };
    const fastDear = { name: 'c', cost: costOf(3008, [60]) };
    expect(chooseDefault([slowCheap, fastNearlyAsCheap, fastDear])?.name).toBe('b');
    expect(chooseDefault([slowCheap, fastDear])?.name).toBe('a');
    const unpriced: { name: string; cost?: ReturnType<typeof costOf> }[] = [{ name: 'none' }];
    expect(chooseDefault(unpriced)).toBeUndefined();
  });
});
