import type { FitMode, OutputFormat } from '../../lambda-src/core/settings.js';
import type { Architecture, Orchestration, StateMachineKind } from '../constants.js';

/** The settings file's model: what `init` writes and every command reads, with the defaults it falls back on. */

export const DEFAULT_SETTINGS_FILE = 'img-resizer.config.json';
export const DEFAULT_STACK_NAME = 'img-resizer';
export const DEFAULT_MEMORY_MB = 1024;
export const DEFAULT_TIMEOUT_S = 60;


/** The stack's resolved settings, written by `init` and read by every other command. Never credentials. */
export interface StackSettings {
  stackName: string;
  /** Region the stack lives in (absent for "whatever the SDK resolves"). */
  region?: string | undefined;
  sourceBucket: string;
  destBucket: string;
  table: string;
  functionName: string;
  roleName: string;
  layerName: string;
  /** Size spec, e.g. "thumbnail=200x200". */
  sizes: string;
  format: OutputFormat;
  fit: FitMode;
  arch: Architecture;
  memory: number;
  timeout: number;
  /** Trigger filters: only keys under this prefix / with this suffix start the function. */
  prefix?: string | undefined;
  suffix?: string | undefined;
  /** How uploads reach the function: the direct S3 trigger (absent: direct), or EventBridge → Step Functions. */
  orchestration?: Orchestration | undefined;
  /** Workflow mode only: Express (per request, the default) or Standard (per state transition, full history). */
  stateMachineType?: StateMachineKind | undefined;
}

/** Names derived from the stack name alone. */
export function derivedNames(stackName: string): Pick<StackSettings, 'table' | 'functionName' | 'roleName' | 'layerName'> {
  return {
    table: `${stackName}-metadata`,
    functionName: `${stackName}-resize`,
    roleName: `${stackName}-function-role`,
    layerName: `${stackName}-sharp`,
  };
}

