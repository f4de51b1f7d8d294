import { InvalidArgumentError } from 'commander';
import { parseSetting, SETTING_RULES, type RuledSetting } from '../config/setting-rules.js';
import type { StackSettings } from '../config/stack-settings.js';
import { errorMessage } from '../errors.js';

// Apart from shared.ts, which main.ts and cli.ts load on every start: the setting rules (and the function's core
// settings, sizes and colours they read) load only with the commands that declare setting flags.

/**
 * Commander's parser for a setting's flag, by the setting's one rule (src/config/setting-rules.ts), so the flag,
 * its IMG_RESIZER_* variable and its settings-file key accept the same values and state the same range.
 */
export function parseSettingFlag<K extends RuledSetting>(key: K) {
  return (value: string): NonNullable<StackSettings[K]> => {
    try {
      return parseSetting(key, value);
    } catch (error) {
      throw new InvalidArgumentError(`${SETTING_RULES[key].flag}: ${errorMessage(error)}`);
    }
  };
}
