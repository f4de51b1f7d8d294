/** What Lambda's platform reports at the end of every invocation (the REPORT line of the log). */
export interface InvocationReport {
  durationMs: number;
  billedDurationMs: number;
  memorySizeMb: number | undefined;
  maxMemoryUsedMb: number | undefined;
  /** Present on a cold start only. */
  initDurationMs: number | undefined;
}

const TEXT_FIELDS = {
  // Not the "Duration:" inside "Billed Duration:" or "Init Duration:".
  durationMs: /(?<!Billed |Init )\bDuration:\s*([\d.]+)\s*ms/,
  billedDurationMs: /\bBilled Duration:\s*([\d.]+)\s*ms/,
  memorySizeMb: /\bMemory Size:\s*(\d+)\s*MB/,
  maxMemoryUsedMb: /\bMax Memory Used:\s*(\d+)\s*MB/,
  initDurationMs: /\bInit Duration:\s*([\d.]+)\s*ms/,
} as const;

function numberIn(line: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(line);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function fromText(line: string): InvocationReport | undefined {
  if (!line.startsWith('REPORT ')) return undefined;
  const durationMs = numberIn(line, TEXT_FIELDS.durationMs);
  const billedDurationMs = numberIn(line, TEXT_FIELDS.billedDurationMs);
  if (durationMs === undefined || billedDurationMs === undefined) return undefined;
  return {
    durationMs,
    billedDurationMs,
    memorySizeMb: numberIn(line, TEXT_FIELDS.memorySizeMb),
    maxMemoryUsedMb: numberIn(line, TEXT_FIELDS.maxMemoryUsedMb),
    initDurationMs: numberIn(line, TEXT_FIELDS.initDurationMs),
  };
}

function numberField(metrics: Record<string, unknown>, name: string): number | undefined {
  const value = metrics[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** With LoggingConfig LogFormat JSON (what init sets), the REPORT line is a `platform.report` JSON record. */
function fromJson(line: string): InvocationReport | undefined {
  if (!line.startsWith('{') || !line.includes('platform.report')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('type' in parsed) || parsed.type !== 'platform.report' || !('record' in parsed)) return undefined;
  const record = parsed.record;
  if (typeof record !== 'object' || record === null || !('metrics' in record) || typeof record.metrics !== 'object' || record.metrics === null) return undefined;
  const metrics = record.metrics as Record<string, unknown>;
  const durationMs = numberField(metrics, 'durationMs');
  const billedDurationMs = numberField(metrics, 'billedDurationMs');
  if (durationMs === undefined || billedDurationMs === undefined) return undefined;
  return {
    durationMs,
    billedDurationMs,
    memorySizeMb: numberField(metrics, 'memorySizeMB'),
    maxMemoryUsedMb: numberField(metrics, 'maxMemoryUsedMB'),
    initDurationMs: numberField(metrics, 'initDurationMs'),
  };
}

/**
 * The REPORT of an invocation from the tail of its log (LogType Tail: the last 4 KB), in the text form or the
 * JSON form; undefined when the tail has none (emulators such as MiniStack send only the function's own output).
 */
export function parseInvocationReport(logTail: string): InvocationReport | undefined {
  const lines = logTail.split(/\r?\n/).map((line) => line.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    const report = fromText(line) ?? fromJson(line);
    if (report) return report;
  }
  return undefined;
}
