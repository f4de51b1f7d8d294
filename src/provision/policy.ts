/**
 * IAM policy documents compared by meaning, not by text: IAM hands documents back URL-encoded and
 * reformatted, with single values where we wrote one-element lists, and in any order.
 */

type Doc = Record<string, unknown>;

/** A policy document as IAM returns it (URL-encoded JSON), or as we wrote it. */
export function parsePolicyDocument(text: string | undefined): Doc | undefined {
  if (text === undefined || text === '') return undefined;
  const candidates = [text];
  try {
    candidates.unshift(decodeURIComponent(text));
  } catch {
    // Not URL-encoded after all.
  }
  for (const candidate of candidates) {
    try {
      const parsed: unknown = JSON.parse(candidate);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Doc;
    } catch {
      // Try the next form.
    }
  }
  return undefined;
}

/** Canonical form: every Action/Resource/Principal value a sorted list, statements sorted. */
export function normalizePolicy(document: unknown): unknown {
  if (typeof document !== 'object' || document === null) return document;
  const doc = document as Doc;
  const statements = toList(doc.Statement).map(normalizeStatement);
  statements.sort((a, b) => stableStringify(a).localeCompare(stableStringify(b)));
  return { Version: doc.Version ?? '2008-10-17', Statement: statements };
}

const LIST_KEYS = new Set(['Action', 'NotAction', 'Resource', 'NotResource']);

function normalizeStatement(statement: unknown): unknown {
  if (typeof statement !== 'object' || statement === null) return statement;
  const out: Doc = {};
  for (const [key, value] of Object.entries(statement as Doc)) {
    if (LIST_KEYS.has(key)) out[key] = sortedList(value);
    else if (key === 'Principal' || key === 'NotPrincipal') out[key] = normalizePrincipal(value);
    else if (key === 'Condition') out[key] = normalizeCondition(value);
    else out[key] = value;
  }
  return out;
}

function normalizePrincipal(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const out: Doc = {};
  for (const [key, item] of Object.entries(value as Doc)) out[key] = sortedList(item);
  return out;
}

function normalizeCondition(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const out: Doc = {};
  for (const [operator, keys] of Object.entries(value as Doc)) {
    if (typeof keys !== 'object' || keys === null) {
      out[operator] = keys;
      continue;
    }
    const inner: Doc = {};
    for (const [key, item] of Object.entries(keys as Doc)) inner[key.toLowerCase()] = sortedList(item);
    out[operator] = inner;
  }
  return out;
}

function toList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function sortedList(value: unknown): unknown[] {
  return toList(value)
    .map((v) => (typeof v === 'string' ? v : stableStringify(v)))
    .sort();
}

export function policiesEqual(a: unknown, b: unknown): boolean {
  return stableStringify(normalizePolicy(a)) === stableStringify(normalizePolicy(b));
}

/** JSON with object keys sorted, so equal values have equal text. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Doc)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

/** Which statements (by Sid) differ between two documents, for the plan's reason. */
export function policyDifferences(desired: unknown, actual: unknown): string[] {
  const index = (doc: unknown): Map<string, string> => {
    const normalized = normalizePolicy(doc) as { Statement?: unknown[] } | undefined;
    const map = new Map<string, string>();
    for (const [i, statement] of (normalized?.Statement ?? []).entries()) {
      const sid = typeof statement === 'object' && statement !== null && typeof (statement as Doc).Sid === 'string'
        ? ((statement as Doc).Sid as string)
        : `#${i}`;
      map.set(sid, stableStringify(statement));
    }
    return map;
  };
  const want = index(desired);
  const have = index(actual);
  const differences: string[] = [];
  for (const [sid, text] of want) {
    if (!have.has(sid)) differences.push(`statement ${sid} missing`);
    else if (have.get(sid) !== text) differences.push(`statement ${sid} differs`);
  }
  for (const sid of have.keys()) if (!want.has(sid)) differences.push(`statement ${sid} not ours`);
  return differences;
}
