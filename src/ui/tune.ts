import type { TuneProgress, TuneResult, TuneRow } from '../operations/tune.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';

/** Said once, on the local stack and other emulators: their functions run on this machine's node. */
export const EMULATED_BANNER =
  'Local stack: the function runs on this machine\'s node, so these durations are the host\'s, not Lambda\'s (whose CPU share grows with memory). Costs are what Lambda would bill for these durations.';

/** Progress lines on stderr while tune runs; nothing under --json (the result says it all). */
export function tuneProgressRenderer(output: Output): (progress: TuneProgress) => void {
  return (progress) => {
    if (output.json) return;
    switch (progress.kind) {
      case 'samples':
        output.note(`Samples: ${progress.keys.join(', ')}`);
        break;
      case 'memory':
        output.note(`${progress.memoryMb} MB: updating, then 1 warm-up invocation (not counted) …`);
        break;
      case 'invoked':
        output.note(`  ${progress.memoryMb} MB invocation ${progress.invocation}/${progress.of}: ${progress.durationMs.toFixed(0)} ms`);
        break;
      case 'restoring':
        output.note(`Setting the function's memory to ${progress.memoryMb} MB …`);
        break;
    }
  };
}

function rowCells(row: TuneRow): string[] {
  const marks = [row.cheapest ? 'cheapest' : '', row.fastest ? 'fastest' : ''].filter(Boolean).join(', ');
  if (row.error !== undefined) return [`${row.memoryMb} MB`, 'failed', '', '', '', '', row.error];
  return [
    `${row.memoryMb} MB`,
    `${row.medianDurationMs.toFixed(1)} ms`,
    `${row.billedMs.toFixed(0)} ms`,
    row.maxMemoryUsedMb === undefined ? 'n/a' : `${row.maxMemoryUsedMb} MB`,
    `$${row.dollarsPerMillion.toFixed(2)}`,
    row.measuredBy === 'report' ? 'REPORT line' : 'client round trip',
    marks,
  ];
}

/** The result: the table with the cheapest and fastest marked, and where the function was left. */
export function renderTune(output: Output, result: TuneResult): void {
  // On stderr, so also under --json (where `emulated` says it too).
  if (result.emulated) output.warn(EMULATED_BANNER);
  if (output.json) {
    output.result(result);
    return;
  }
  if (result.rows.length > 0) {
    output.line(
      renderTable(
        ['memory', 'median duration', 'billed (mean)', 'max memory used', `$/million (${result.architecture})`, 'measured by', ''],
        result.rows.map(rowCells),
        { width: output.tableWidth },
      ),
    );
    if (result.rows.some((row) => row.measuredBy === 'client')) {
      output.note('"client round trip": the log tail had no REPORT line (MiniStack sends none), so the Invoke request was timed from here, network included.');
    }
  }
  const at = (memoryMb: number | undefined): string => (memoryMb === undefined ? 'none' : `${memoryMb} MB`);
  if (result.cheapestMemoryMb !== undefined) output.info(`Cheapest: ${at(result.cheapestMemoryMb)} · fastest: ${at(result.fastestMemoryMb)}`);
  if (result.interrupted) output.warn(`Interrupted: ${result.functionName} is back at ${at(result.finalMemoryMb)}, as it was.`);
  else if (result.applied) output.success(`Applied the ${result.applied.choice} setting: ${result.functionName} now has ${result.applied.memoryMb} MB (recorded in the settings file).`);
  else {
    output.success(`${result.functionName} is back at ${at(result.finalMemoryMb)}, as it was.`);
    if (result.cheapestMemoryMb !== undefined && result.cheapestMemoryMb !== result.originalMemoryMb) {
      output.note('`img-resizer tune --apply` sets the cheapest (`--apply fastest` the fastest).');
    }
  }
}
