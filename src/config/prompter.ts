/** Prompting for settings: the interface resolution asks through, and the terminal's implementation. */

/** Asks a person for a value; injectable so resolution is testable without a terminal. */
export interface Prompter {
  input(message: string, defaultValue: string, validate: (value: string) => string | true): Promise<string>;
  select<T extends string>(message: string, choices: readonly T[], defaultValue: T): Promise<T>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
}

/** The inquirer prompts, loaded only when someone is asked something. */
export const inquirerPrompter: Prompter = {
  async input(message, defaultValue, validate) {
    const { input } = await import('@inquirer/prompts');
    return input({ message, default: defaultValue, validate });
  },
  async select(message, choices, defaultValue) {
    const { select } = await import('@inquirer/prompts');
    return select({ message, choices: choices.map((value) => ({ value, name: value })), default: defaultValue });
  },
  async confirm(message, defaultValue) {
    const { confirm } = await import('@inquirer/prompts');
    return confirm({ message, default: defaultValue });
  },
};
