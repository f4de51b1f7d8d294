/** Questions to a person at the terminal; the prompt library loads only when one is asked. */
export async function confirmWithPerson(question: string): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message: question, default: false });
}
