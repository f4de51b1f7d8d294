/**
 * Resolves the few CloudFormation intrinsics the exported template uses (Ref, Fn::Sub, Fn::GetAtt as a
 * placeholder) against parameter values, so tests compare the template with what `init` applies.
 */
export type Values = Readonly<Record<string, string>>;

export function resolveIntrinsics(value: unknown, values: Values): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, values));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [key, argument] = first;
    if (key === 'Ref') return lookup(values, String(argument));
    if (key === 'Fn::Sub') {
      return String(argument)
        .replace(/\$\{([^!}][^}]*)\}/g, (_match, name: string) => (/^\w+\.\w+$/.test(name) ? `<${name}>` : lookup(values, name)))
        .replaceAll('${!', '${');
    }
    if (key === 'Fn::GetAtt') return `<${(argument as string[]).join('.')}>`;
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveIntrinsics(item, values)]));
}

function lookup(values: Values, name: string): string {
  const value = values[name];
  if (value === undefined) throw new Error(`no value for ${name}`);
  return value;
}

/** Parameter defaults plus the pseudo parameters for an account and region. */
export function defaultValues(template: { Parameters?: Record<string, { Default?: unknown }> }, pseudo: { account: string; region: string; partition: string }): Values {
  const values: Record<string, string> = { 'AWS::AccountId': pseudo.account, 'AWS::Region': pseudo.region, 'AWS::Partition': pseudo.partition };
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) values[name] = String(parameter.Default);
  return values;
}
