/** "1 file", "3 files": a count with its noun. Apart from format.ts, whose tables load string-width, so a command can print counts before it loads them. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
