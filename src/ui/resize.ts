import path from 'node:path';
import type { ResizeReport } from '../operations/resize.js';
import { formatBytes } from './bytes.js';
import { renderTable, type Output } from './output.js';

/** `resize`: each failure on stderr, then the JSON document or a table of the outputs and a summary. */
export function renderResize(output: Output, report: ResizeReport, cwd: string): void {
  for (const result of report.results) {
    if (result.error) output.error(`${result.source}: ${result.error.code}: ${result.error.message}`);
  }
  const { outDir, succeeded, failed, results } = report;
  if (output.json) {
    output.result({ outDir, succeeded, failed, results });
    return;
  }
  const rows = results.flatMap((r) =>
    r.outputs.map((o) => [r.source, o.size, path.relative(cwd, o.file) || o.file, `${o.width}x${o.height}`, o.format, formatBytes(o.bytes)]),
  );
  if (rows.length > 0) output.info(renderTable(['SOURCE', 'SIZE', 'OUTPUT', 'PIXELS', 'FORMAT', 'BYTES'], rows));
  const summary = `${succeeded} of ${results.length} file${results.length === 1 ? '' : 's'} resized into ${path.relative(cwd, outDir) || '.'}`;
  if (failed > 0) output.warn(`${summary}; ${failed} failed.`);
  else output.success(summary);
}
