import path from 'node:path';
import { DEMO_PREFIX, type DemoOutcome, type DemoReport, type DemoTarget } from '../operations/demo.js';
import type { Output } from './output.js';

/** A step's title, as the demo reaches it. */
export function renderDemoStep(output: Output, title: string, first: boolean): void {
  output.info(output.color.bold(`${first ? '' : '\n'}${title}`));
}

/** `demo`: where everything is and what to try next, and the report under --json; or that nothing was made. */
export function renderDemo(output: Output, outcome: DemoOutcome, cwd: string): void {
  if (outcome.cancelled) {
    if (output.json) output.result({ cancelled: true });
    else output.info('Nothing was created.');
    return;
  }
  printWhereToLook(output, outcome.report, outcome.target, cwd);
  if (output.json) output.result(outcome.report);
}

function printWhereToLook(output: Output, report: DemoReport, { endpoint, region, local }: DemoTarget, cwd: string): void {
  const relative = (file: string): string => path.relative(cwd, file) || '.';
  const globalFlags = local ? ' --local' : endpoint ? ` --endpoint-url ${endpoint}` : '';
  // The local stack takes any credentials, but the AWS CLI wants some.
  const awsCli = local || endpoint?.startsWith('http://127.0.0.1')
    ? `AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${region} aws --endpoint-url ${endpoint ?? ''}`
    : `aws${endpoint ? ` --endpoint-url ${endpoint}` : ''}`;
  const lines = [
    '',
    output.color.bold('Where to look'),
    `  Resized images    s3://${report.destBucket}/ (${report.uploaded.reduce((n, u) => n + u.outputs.length, 0)} outputs)`,
    ...report.uploaded.flatMap((u) => u.outputs.map((o) => `                      ${o.key}  ${o.width}x${o.height}`)),
    `  Downloaded copies ${report.downloaded.length > 0 ? relative(path.join(report.outDir, 'from-s3')) : '(none)'}`,
    `  Local resize      ${report.resizedLocally.length > 0 ? relative(path.join(report.outDir, 'local')) : '(none)'}`,
    `  Settings          ${relative(report.settingsFile)} (every other command reads it)`,
    '',
    output.color.bold('Next'),
    `  ${awsCli} s3 cp s3://${report.destBucket}/ ./outputs --recursive   # download every output`,
    `  npx img-resizer${globalFlags} upload <your photos...> --wait`,
    `  npx img-resizer${globalFlags} metadata get "${report.uploaded[0]?.key ?? `${DEMO_PREFIX}<name>`}"`,
    `  npx img-resizer${globalFlags} destroy --yes   # remove everything the demo created`,
  ];
  for (const line of lines) output.info(line);
}
