import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Reads until `read` gives a value, for what a deployed stack does in its own time (a read that throws counts as
 * not yet: the object or item is not there). Fails naming `what` after `timeoutMs`.
 */
export async function poll<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}
