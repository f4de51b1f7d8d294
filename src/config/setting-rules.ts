import bytes from 'bytes';
import {
  ALLOW_UPSCALE_RULE,
  BACKGROUND_RULE,
  CACHE_CONTROL_RULE,
  FIT_MODES,
  MAX_BYTES_RULE,
  MAX_PIXELS_RULE,
  OUTPUT_FORMATS,
  QUALITY_RULE,
  settingRule,
  wholeNumberRule,
  type SettingRule,
} from '../../lambda-src/core/settings.js';
import { parseSizeSpec } from '../../lambda-src/core/sizes.js';
import { ARCHITECTURES, LAMBDA_MEMORY_RANGE_MB, ORCHESTRATIONS, STATE_MACHINE_KINDS } from '../constants.js';
import { CDN_PRICE_CLASSES, type StackSettings } from './stack-settings.js';

/**
 * One rule per setting, for every way a value arrives: its flag (commander's parser), its IMG_RESIZER_* variable,
 * its settings-file key, and the final check of the resolved settings. So `--memory 64`, `--memory 999999999`,
 * `IMG_RESIZER_MEMORY=lots` and `"memory": "lots"` all state the one range. The function's own settings use the
 * function's rule objects (lambda-src/core/settings.ts), not copies.
 */

/** The values CloudWatch Logs accepts as a retention. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export function choiceRule<T extends string>(choices: readonly T[]): SettingRule<T> {
  return settingRule(`one of ${choices.join(', ')}`, (text) => choices.find((choice) => choice.toLowerCase() === text.toLowerCase()));
}

/** on, true, 1, yes / off, false, 0, no, any case. */
export const ON_OFF_RULE = settingRule('on or off (or true, false, yes, no, 1, 0)', (text) => {
  const lower = text.toLowerCase();
  return ['on', 'true', '1', 'yes'].includes(lower) ? true : ['off', 'false', '0', 'no'].includes(lower) ? false : undefined;
});

const CONFIDENCE_RULE = settingRule('a confidence from 0 to 100', (text) => {
  const n = Number(text);
  return /^\d+(\.\d+)?$/.test(text) && n <= 100 ? n : undefined;
});

/**
 * MAX_BYTES in bytes, or with a unit as `bytes` reads it (20MB, 1.5GB; binary multiples, as the CLI prints
 * sizes). The function's variable holds the whole number, checked by the function's own rule.
 */
const MAX_BYTES_SIZE_RULE = settingRule(`${MAX_BYTES_RULE.expected}, or a size such as 20MB`, (text) => {
  const parsed = /^\d+$/.test(text) ? Number(text) : /^\d+(\.\d+)?\s*[kmgt]i?b$/i.test(text) ? bytes.parse(text.replace(/ib$/i, 'b')) : null;
  if (parsed === null || !Number.isFinite(parsed)) return undefined;
  try {
    return MAX_BYTES_RULE.parse(String(Math.floor(parsed)));
  } catch {
    return undefined;
  }
});

/** The colour as written (the function's BACKGROUND holds the same text, so drift compares like with like), checked by the function's rule. */
const BACKGROUND_TEXT_RULE = settingRule(BACKGROUND_RULE.expected, (text) => {
  try {
    BACKGROUND_RULE.parse(text);
    return text;
  } catch {
    return undefined;
  }
});

/** The size spec as written (init writes it back canonically); the message is parseSizeSpec's own, which says what is wrong. */
const SIZES_RULE: SettingRule<string> = {
  expected: 'name=WxH sizes, comma-separated (e.g. thumb=200x200,medium=800x800)',
  parse(text: string): string {
    parseSizeSpec(text);
    return text.trim();
  },
};

/** Settings with a rule, each with the flag that sets it (named in messages). */
export const SETTING_RULES = {
  sizes: { flag: '--sizes', rule: SIZES_RULE },
  format: { flag: '--format', rule: choiceRule(OUTPUT_FORMATS) },
  fit: { flag: '--fit', rule: choiceRule(FIT_MODES) },
  arch: { flag: '--arch', rule: choiceRule(ARCHITECTURES) },
  memory: { flag: '--memory', rule: wholeNumberRule(LAMBDA_MEMORY_RANGE_MB.min, LAMBDA_MEMORY_RANGE_MB.max, ' of MB') },
  timeout: { flag: '--timeout', rule: wholeNumberRule(1, 900, ' of seconds') },
  notifications: { flag: '--notifications', rule: ON_OFF_RULE },
  logRetentionDays: {
    flag: '--log-retention',
    rule: settingRule(`a number of days CloudWatch Logs offers: ${LOG_RETENTION_DAYS.join(', ')}`, (text) =>
      LOG_RETENTION_DAYS.find((days) => /^\d+$/.test(text) && days === Number(text))),
  },
  pointInTimeRecovery: { flag: '--pitr', rule: ON_OFF_RULE },
  retryAttempts: { flag: '--retry-attempts', rule: wholeNumberRule(0, 2) },
  maxEventAgeSeconds: { flag: '--max-event-age', rule: wholeNumberRule(60, 21_600, ' of seconds') },
  keepOnDelete: { flag: '--keep-on-delete', rule: ON_OFF_RULE },
  allowLockPublicBucket: { flag: '--allow-lock-public-bucket', rule: ON_OFF_RULE },
  labels: { flag: '--labels', rule: ON_OFF_RULE },
  labelsMinConfidence: { flag: '--labels-min-confidence', rule: CONFIDENCE_RULE },
  labelsMax: { flag: '--labels-max', rule: wholeNumberRule(1, 1000) },
  moderation: { flag: '--moderation', rule: ON_OFF_RULE },
  moderationMinConfidence: { flag: '--moderation-min-confidence', rule: CONFIDENCE_RULE },
  api: { flag: '--api', rule: ON_OFF_RULE },
  apiPublicReads: { flag: '--api-public-reads', rule: ON_OFF_RULE },
  apiThrottleRate: { flag: '--api-throttle-rate', rule: wholeNumberRule(1, 10_000) },
  apiThrottleBurst: { flag: '--api-throttle-burst', rule: wholeNumberRule(1, 5_000) },
  cdn: { flag: '--cdn', rule: ON_OFF_RULE },
  cdnPriceClass: { flag: '--cdn-price-class', rule: choiceRule(CDN_PRICE_CLASSES) },
  cacheControl: { flag: '--cache-control', rule: CACHE_CONTROL_RULE },
  quality: { flag: '--quality', rule: QUALITY_RULE },
  allowUpscale: { flag: '--allow-upscale', rule: ALLOW_UPSCALE_RULE },
  maxPixels: { flag: '--max-pixels', rule: MAX_PIXELS_RULE },
  maxBytes: { flag: '--max-bytes', rule: MAX_BYTES_SIZE_RULE },
  background: { flag: '--background', rule: BACKGROUND_TEXT_RULE },
  orchestration: { flag: '--orchestration', rule: choiceRule(ORCHESTRATIONS) },
  stateMachineType: { flag: '--state-machine-type', rule: choiceRule(STATE_MACHINE_KINDS) },
  backfillQueue: { flag: '--backfill-queue', rule: ON_OFF_RULE },
  queueMaxConcurrency: { flag: '--queue-max-concurrency', rule: wholeNumberRule(2, 1000) },
} as const satisfies { [K in keyof StackSettings]?: { flag: string; rule: SettingRule<NonNullable<StackSettings[K]>> } };

export type RuledSetting = keyof typeof SETTING_RULES;

export function isRuledSetting(key: string): key is RuledSetting {
  return Object.hasOwn(SETTING_RULES, key);
}

/** A setting's value from its text; the error says which setting (`--memory: "64" is not ...`). */
export function parseSetting<K extends RuledSetting>(key: K, text: string): NonNullable<StackSettings[K]> {
  return SETTING_RULES[key].rule.parse(text) as NonNullable<StackSettings[K]>;
}
