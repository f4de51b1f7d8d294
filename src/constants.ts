/** Facts about the deployed function, defined once for the CLI, the packager and the provisioning steps. */

/** Lambda's instruction-set architectures, as its API spells them. */
export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** How uploads reach the function: the direct S3 trigger, or EventBridge → Step Functions (workflow mode). */
export const ORCHESTRATIONS = ['direct', 'stepfunctions'] as const;
export type Orchestration = (typeof ORCHESTRATIONS)[number];
/** Workflow mode's state machine: Express (per request) or Standard (per state transition, full history). */
export const STATE_MACHINE_KINDS = ['express', 'standard'] as const;
export type StateMachineKind = (typeof STATE_MACHINE_KINDS)[number];

// The function's runtime is a setting (--runtime; src/runtimes.ts lists them, stackRuntime() reads it).

/** index.mjs in the function zip, exporting `handler`. */
export const FUNCTION_HANDLER = 'index.handler';
/** The HTTP API's handler, in the same bundle (lambda-src/index.ts exports both). */
export const API_FUNCTION_HANDLER = 'index.apiHandler';

/** The Lambda architecture of this machine when it runs Linux on one of Lambda's CPUs, else undefined. */
export function hostLambdaArchitecture(platform: NodeJS.Platform = process.platform, arch: string = process.arch): Architecture | undefined {
  if (platform !== 'linux') return undefined;
  if (arch === 'x64') return 'x86_64';
  if (arch === 'arm64') return 'arm64';
  return undefined;
}

/**
 * The architecture whose layer this machine can load, for stacks whose functions run on this machine
 * (MiniStack runs them with the host's node): arm64 on arm64, x86_64 otherwise.
 */
export function hostArchitecture(arch: string = process.arch): Architecture {
  return arch === 'arm64' ? 'arm64' : 'x86_64';
}

/** Where `build` writes the packages unless --out says otherwise. */
export const DEFAULT_BUILD_DIR = 'build';

// Defaults of command options, here so a command's declaration need not load the operation behind it.

/** Invocations `backfill` keeps in flight. */
export const DEFAULT_BACKFILL_CONCURRENCY = 8;
/** How long `upload --wait` waits for the function, in seconds. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 60;
/** The statuses a metadata item can have. */
export const METADATA_STATUSES = ['SUCCEEDED', 'FAILED'] as const;
/** Where `demo` puts its local results. */
export const DEMO_DIR = 'img-resizer-demo';

/** The template flavours `export` writes. */
export const EXPORT_FORMATS = ['cloudformation', 'sam'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The memory sizes `tune` tries unless told (AWS Lambda Power Tuning's usual start; 1,769 MB is one vCPU). */
export const DEFAULT_TUNE_MEMORY_SIZES = [512, 1024, 1769, 3008] as const;
/** Invocations `tune` measures per memory size, after one warm-up. */
export const DEFAULT_TUNE_INVOCATIONS = 5;
/** Lambda's memory range, in MB. */
export const LAMBDA_MEMORY_RANGE_MB = { min: 128, max: 10_240 } as const;
/** What `tune --apply` may leave the function at. */
export const TUNE_CHOICES = ['cheapest', 'fastest'] as const;
export type TuneChoice = (typeof TUNE_CHOICES)[number];
