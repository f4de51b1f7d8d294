import path from 'node:path';
import type { BuildReport } from '../operations/build.js';
import { formatBytes } from './bytes.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';

/** `build`: the JSON report, or a table of the artifacts and where they went. */
export function renderBuild(output: Output, report: BuildReport): void {
  if (report.coldImportSkipped !== undefined) output.warn(`Not timing the import: ${report.coldImportSkipped}.`);
  if (output.json) {
    const { coldImportSkipped: _skipped, ...document } = report;
    output.result(document);
    return;
  }
  const rows = report.artifacts.map((a) => [a.name, formatBytes(a.size), formatBytes(a.unzippedSize), a.sha256]);
  output.info(renderTable(['artifact', 'zipped', 'unzipped', 'sha256'], rows, { width: output.tableWidth, shrink: [3, 0] }));
  output.info('');
  output.info(`Written to ${report.outDir} (the layer is also cached in ${path.dirname(report.layerCachePath)})`);
  output.info(
    `sharp ${report.sharpVersion} for Lambda ${report.arch}, bundle for ${report.runtime} (layer ${report.layerFromCache ? 'from the cache' : 'installed now'}), handler ${report.handler}, built in ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  if (report.coldImportMs !== undefined) output.info(`Cold import of the handler with sharp: ${report.coldImportMs} ms (median of 3 fresh processes)`);
}
