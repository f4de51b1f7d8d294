import type { UploadReport } from '../operations/upload.js';
import type { Output } from './output.js';

/**
 * `upload`: the report as the JSON document under --json. The human lines (one per file as it settles, and the
 * summary of what did not make it) are written while the upload runs.
 */
export function renderUpload(output: Output, report: UploadReport): void {
  if (output.json) output.result(report);
}
