/**
 * Lambda list prices, US East (N. Virginia), first pricing tier (the first 6 billion x86 / 7.5 billion arm64
 * GB-seconds a month), from https://aws.amazon.com/lambda/pricing/ as of 2026-11-29 (unchanged since arm64
 * launched in 2021; cross-checked against third-party copies of that page). Requests cost the same on both.
 * One source for the bench's cost model and `tune`.
 */
export const LAMBDA_PRICES = {
  date: '2026-11-29',
  source: 'https://aws.amazon.com/lambda/pricing/',
  x86PerGbSecond: 0.0000166667,
  arm64PerGbSecond: 0.0000133334,
  perMillionRequests: 0.2,
} as const;

/** Dollars per million invocations that bill `billedMs` each at `memoryMb`, on `architecture`. */
export function dollarsPerMillion(memoryMb: number, billedMs: number, architecture: 'x86_64' | 'arm64'): number {
  const gbSeconds = (memoryMb / 1024) * (billedMs / 1000);
  const perGbSecond = architecture === 'arm64' ? LAMBDA_PRICES.arm64PerGbSecond : LAMBDA_PRICES.x86PerGbSecond;
  return gbSeconds * perGbSecond * 1e6 + LAMBDA_PRICES.perMillionRequests;
}
