/**
 * The Lambda Node.js runtimes the pipeline supports, as data: what Node major each runs, what esbuild
 * targets for it, and when Lambda stops supporting it.
 *
 * Lifecycle dates: AWS Lambda, "Lambda runtimes", table "Supported runtimes" (columns Deprecation date,
 * Block function create, Block function update):
 *   https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtimes-supported
 * As listed there in 2026: nodejs22.x Apr 30 2027 / Jun 1 2027 / Jul 1 2027; nodejs24.x Apr 30 2028 /
 * Jun 1 2028 / Jul 1 2028. Deprecation follows the Node.js project's end of life for the major
 * (https://github.com/nodejs/Release#release-schedule). Lambda sometimes moves the block dates later;
 * update them here when it does.
 */

export const LAMBDA_RUNTIMES_SOURCE = 'https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtimes-supported';

export interface RuntimeInfo {
  /** Lambda's runtime identifier. */
  id: LambdaRuntime;
  /** The Node.js major the runtime runs (and the local stack runs the function on). */
  nodeMajor: number;
  /** esbuild's `target` for code that runs on this runtime. */
  esbuildTarget: string;
  /** ISO dates (UTC) from the Lambda runtimes page. */
  deprecation: string;
  blockFunctionCreate: string;
  blockFunctionUpdate: string;
}

export const LAMBDA_RUNTIMES = ['nodejs22.x', 'nodejs24.x'] as const;
export type LambdaRuntime = (typeof LAMBDA_RUNTIMES)[number];

const RUNTIMES: Readonly<Record<LambdaRuntime, RuntimeInfo>> = {
  'nodejs22.x': {
    id: 'nodejs22.x',
    nodeMajor: 22,
    esbuildTarget: 'node22',
    deprecation: '2027-04-30',
    blockFunctionCreate: '2027-06-01',
    blockFunctionUpdate: '2027-07-01',
  },
  'nodejs24.x': {
    id: 'nodejs24.x',
    nodeMajor: 24,
    esbuildTarget: 'node24',
    deprecation: '2028-04-30',
    blockFunctionCreate: '2028-06-01',
    blockFunctionUpdate: '2028-07-01',
  },
};

/** How long before deprecation `status` starts warning. */
export const DEPRECATION_WARNING_DAYS = 90;

export function isLambdaRuntime(value: string): value is LambdaRuntime {
  return (LAMBDA_RUNTIMES as readonly string[]).includes(value);
}

export function runtimeInfo(runtime: LambdaRuntime): RuntimeInfo {
  return RUNTIMES[runtime];
}

/** All supported runtimes, oldest first. */
export function supportedRuntimes(): RuntimeInfo[] {
  return LAMBDA_RUNTIMES.map((id) => RUNTIMES[id]);
}

/**
 * The Node majors the other parts of the pipeline are known to support, checked by hand when their
 * pinned versions change (see the README's "Node.js versions" section):
 * - sharp 0.35.5 (the layer): its prebuilt binaries are Node-API addons (engines node >=20.9.0), so one
 *   binary per platform loads on every later major, 22 and 24 included.
 * - AWS SDK for JavaScript v3 (bundled): engines node >=20; its releases after the first week of
 *   January 2027 need Node 22 or newer, which both runtimes satisfy.
 * - MiniStack 1.5.33 (the local stack): accepts nodejs22.x and nodejs24.x (it maps both to Lambda's
 *   images) and runs a function with the first `node` on its PATH, whatever the runtime says; the local
 *   stack therefore puts the runtime's Node first on that PATH (src/local/node-runtime.ts).
 */
export const PIPELINE_NODE_MAJORS: readonly number[] = [22, 24];

/** The newest runtime every part of the pipeline supports. */
export function defaultRuntime(runtimes: readonly RuntimeInfo[] = supportedRuntimes(), majors: readonly number[] = PIPELINE_NODE_MAJORS): LambdaRuntime {
  const usable = runtimes.filter((r) => majors.includes(r.nodeMajor)).sort((a, b) => b.nodeMajor - a.nodeMajor);
  const newest = usable[0];
  if (newest === undefined) throw new Error('No Lambda runtime is supported by every part of the pipeline.');
  return newest.id;
}

/** `unsupported`: a runtime img-resizer does not deploy (e.g. an older nodejs20.x function found by `status`). */
export type RuntimeWarningLevel = 'deprecating' | 'deprecated' | 'create-blocked' | 'update-blocked' | 'unsupported';

export interface RuntimeWarning {
  runtime: string;
  level: RuntimeWarningLevel;
  /** Whole days until deprecation; negative once past; undefined for an unsupported runtime. */
  daysToDeprecation: number | undefined;
  message: string;
  suggestion: string;
  source: string;
}

const DAY_MS = 86_400_000;

/** Days from `today` (its UTC date) to an ISO date; negative when the date is past. */
function daysUntil(isoDate: string, today: Date): number {
  const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Math.round((Date.parse(`${isoDate}T00:00:00Z`) - start) / DAY_MS);
}

/**
 * A warning when Lambda has deprecated the runtime, or will within DEPRECATION_WARNING_DAYS of
 * `today`, or when it is not a runtime img-resizer supports; undefined while it is comfortably
 * supported. Takes any string because `status` reads the runtime off a deployed function. Pure: the
 * caller passes the date.
 */
export function runtimeWarning(runtime: string, today: Date): RuntimeWarning | undefined {
  const newer = defaultRuntime();
  if (!isLambdaRuntime(runtime)) {
    return {
      runtime,
      level: 'unsupported',
      daysToDeprecation: undefined,
      message: `The function runs ${runtime}, which img-resizer does not support (supported: ${LAMBDA_RUNTIMES.join(', ')}).`,
      suggestion: `Switch the function to ${newer} (--runtime ${newer}) and run init again.`,
      source: LAMBDA_RUNTIMES_SOURCE,
    };
  }
  const info = RUNTIMES[runtime];
  const daysToDeprecation = daysUntil(info.deprecation, today);
  if (daysToDeprecation > DEPRECATION_WARNING_DAYS) return undefined;
  const suggestion =
    newer === runtime
      ? `Lambda offers no newer supported runtime known to this version of img-resizer; update img-resizer.`
      : `Switch the function to ${newer} (--runtime ${newer}) and run init again.`;
  const base = { runtime, daysToDeprecation, suggestion, source: LAMBDA_RUNTIMES_SOURCE };
  if (daysUntil(info.blockFunctionUpdate, today) <= 0) {
    return { ...base, level: 'update-blocked', message: `Lambda deprecated ${runtime} on ${info.deprecation} and blocks updating its functions since ${info.blockFunctionUpdate}.` };
  }
  if (daysUntil(info.blockFunctionCreate, today) <= 0) {
    return {
      ...base,
      level: 'create-blocked',
      message: `Lambda deprecated ${runtime} on ${info.deprecation}, blocks creating functions with it since ${info.blockFunctionCreate} and blocks updating them from ${info.blockFunctionUpdate}.`,
    };
  }
  if (daysToDeprecation <= 0) {
    return {
      ...base,
      level: 'deprecated',
      message: `Lambda deprecated ${runtime} on ${info.deprecation}; it blocks creating functions with it from ${info.blockFunctionCreate} and updating them from ${info.blockFunctionUpdate}.`,
    };
  }
  return {
    ...base,
    level: 'deprecating',
    message: `Lambda deprecates ${runtime} on ${info.deprecation} (in ${daysToDeprecation} day${daysToDeprecation === 1 ? '' : 's'}); it blocks creating functions with it from ${info.blockFunctionCreate} and updating them from ${info.blockFunctionUpdate}.`,
  };
}
