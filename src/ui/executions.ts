import type { ExecutionsResult } from '../operations/executions.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';

/** The workflow's recent executions: a table, or the --json document. */
export function renderExecutions(output: Output, result: ExecutionsResult, failedOnly: boolean): void {
  if (output.json) {
    output.result({ stateMachineArn: result.stateMachineArn, executions: result.executions });
    return;
  }
  if (result.executions.length === 0) {
    output.info(failedOnly ? 'No failed executions.' : 'No executions yet.');
    return;
  }
  output.info(
    renderTable(
      ['Started', 'Status', 'Object', 'Error'],
      result.executions.map((e) => [e.startedAt ?? '', e.status, e.object ?? '', e.error ?? '']),
      // The error text, then the object key, give way first on a narrow terminal (--wide keeps everything).
      { width: output.tableWidth, shrink: [3, 2] },
    ),
  );
}
