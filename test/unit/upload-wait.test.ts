import { describe, expect, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { CLOCK_SKEW_TOLERANCE_MS, isFreshItem, waitForItems, type Clock, type PendingImage } from '../../src/operations/wait-for-items.js';

/** A clock that only moves when the code under test sleeps. */
function fakeClock(start = Date.parse('2025-01-01T00:00:00Z')): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

function item(imageId: string, processedAt: number, status: MetadataItem['Status'] = 'SUCCEEDED'): MetadataItem {
  return { ImageID: imageId, ProcessedAt: new Date(processedAt).toISOString(), Status: status } as MetadataItem;
}

describe('isFreshItem', () => {
  const uploadedAt = Date.parse('2025-01-01T00:00:00Z');
  it('accepts an item written after the upload', () => {
    expect(isFreshItem(item('a', uploadedAt + 500), { imageId: 'a', uploadedAt })).toBe(true);
  });
  it('refuses the item that existed before a re-upload, even when its time is close', () => {
    const old = item('a', uploadedAt - 1000);
    expect(isFreshItem(old, { imageId: 'a', uploadedAt, previousProcessedAt: old.ProcessedAt })).toBe(false);
  });
  it('refuses an item far older than the upload, allowing for clock skew', () => {
    expect(isFreshItem(item('a', uploadedAt - CLOCK_SKEW_TOLERANCE_MS - 1), { imageId: 'a', uploadedAt })).toBe(false);
    expect(isFreshItem(item('a', uploadedAt - 2000), { imageId: 'a', uploadedAt })).toBe(true);
  });
});

describe('waitForItems', () => {
  it('reads all pending images in one batch per round and settles each as its fresh item appears', async () => {
    const clock = fakeClock();
    const t0 = clock.now();
    const pending: PendingImage[] = [
      { imageId: 'a', uploadedAt: t0 },
      { imageId: 'b', uploadedAt: t0, previousProcessedAt: new Date(t0 - 60_000).toISOString() },
    ];
    const rounds: string[][] = [];
    const settledOrder: string[] = [];
    const result = await waitForItems(pending, {
      timeoutMs: 60_000,
      clock,
      onSettled: (id) => settledOrder.push(id),
      fetch: (ids) => {
        rounds.push([...ids]);
        const found = new Map<string, MetadataItem>();
        // b's old item is there from the start; its new one arrives in round 3, a's in round 2.
        found.set('b', rounds.length >= 3 ? item('b', clock.now(), 'FAILED') : item('b', t0 - 60_000));
        if (rounds.length >= 2) found.set('a', item('a', clock.now()));
        return Promise.resolve(found);
      },
    });
    expect(rounds).toEqual([['a', 'b'], ['a', 'b'], ['b']]);
    expect(settledOrder).toEqual(['a', 'b']);
    expect(result.timedOut).toEqual([]);
    expect(result.settled.get('b')?.Status).toBe('FAILED');
    expect(result.rounds).toBe(3);
  });

  it('backs off between rounds up to a cap, reads once more at the deadline, then names what is missing', async () => {
    const clock = fakeClock();
    const t0 = clock.now();
    let fetches = 0;
    let lastFetchAt = 0;
    const result = await waitForItems([{ imageId: 'slow', uploadedAt: t0 }], {
      timeoutMs: 10_000,
      clock,
      initialDelayMs: 250,
      maxDelayMs: 2_000,
      backoffFactor: 2,
      fetch: () => {
        fetches++;
        lastFetchAt = clock.now();
        return Promise.resolve(new Map());
      },
    });
    expect(result.timedOut).toEqual(['slow']);
    expect(clock.sleeps.slice(0, 6)).toEqual([250, 500, 1000, 2000, 2000, 2000]);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(lastFetchAt - t0).toBe(10_000);
    expect(fetches).toBe(clock.sleeps.length + 1);
  });

  it('returns at once when nothing is pending', async () => {
    const clock = fakeClock();
    const result = await waitForItems([], { timeoutMs: 1000, clock, fetch: () => Promise.reject(new Error('no read expected')) });
    expect(result).toMatchObject({ timedOut: [], rounds: 0 });
  });
});

describe('waitForItems, interrupted', () => {
  it('stops at once when the signal aborts, naming what was still pending as interrupted rather than timed out', async () => {
    const t0 = Date.parse('2025-01-01T00:00:00Z');
    const interrupt = new AbortController();
    let fetches = 0;
    // A sleep that never ends by itself: only the abort can end the wait.
    const clock: Clock = { now: () => t0, sleep: () => new Promise<void>(() => undefined) };
    const waiting = waitForItems([{ imageId: 'a', uploadedAt: t0 }, { imageId: 'b', uploadedAt: t0 }], {
      timeoutMs: 60_000,
      clock,
      signal: interrupt.signal,
      fetch: () => {
        fetches++;
        return Promise.resolve(new Map([['a', item('a', t0 + 10)]]));
      },
    });
    setTimeout(() => { interrupt.abort(); }, 10);
    const result = await waiting;
    expect(fetches).toBe(1);
    expect([...result.settled.keys()]).toEqual(['a']);
    expect(result.interrupted).toEqual(['b']);
    expect(result.timedOut).toEqual([]);
  });

  it('reads nothing when interrupted before it starts', async () => {
    const interrupt = new AbortController();
    interrupt.abort();
    const result = await waitForItems([{ imageId: 'a', uploadedAt: 0 }], {
      timeoutMs: 1000,
      signal: interrupt.signal,
      fetch: () => Promise.reject(new Error('no read expected')),
    });
    expect(result).toMatchObject({ interrupted: ['a'], timedOut: [], rounds: 0 });
  });

  it('keeps what settled when a read fails, and names the images whose outcome is unknown', async () => {
    const clock = fakeClock();
    const uploadedAt = clock.now();
    let reads = 0;
    const gone = Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
    const result = await waitForItems([{ imageId: 'a', uploadedAt }, { imageId: 'b', uploadedAt }], {
      timeoutMs: 10_000,
      clock,
      fetch: () => {
        reads++;
        return reads === 1 ? Promise.resolve(new Map([['a', item('a', uploadedAt + 100)]])) : Promise.reject(gone);
      },
    });
    expect([...result.settled.keys()]).toEqual(['a']);
    expect(result.unknown).toEqual({ imageIds: ['b'], error: gone });
    expect(result).toMatchObject({ timedOut: [], interrupted: [], rounds: 2 });
  });
});
