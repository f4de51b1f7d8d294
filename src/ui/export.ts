import path from 'node:path';
import { formatBytes } from './bytes.js';
import type { ExportResult } from '../operations/export.js';
import { renderTable, type Output } from './output.js';

/** Prints what `export` wrote and how to deploy it. */
export function renderExport(result: ExportResult, output: Output): void {
  if (output.json) {
    output.result(result);
    return;
  }
  const rows = [
    [path.basename(result.templatePath), '', result.templateSha256, ''],
    ...result.artifacts.map((a) => [a.name, formatBytes(a.size), a.sha256, a.s3Uri ?? '']),
  ];
  output.info(renderTable(['file', 'size', 'sha256', 'uploaded to'], rows));
  output.info('');
  output.success(`Wrote the ${result.format === 'sam' ? 'SAM' : 'CloudFormation'} template and its artifacts to ${result.outDir}`);
  const template = path.relative(process.cwd(), result.templatePath) || result.templatePath;
  output.info('Deploy it with:');
  if (result.format === 'sam') {
    output.info(`  sam deploy --guided --template-file ${template} --capabilities CAPABILITY_NAMED_IAM`);
  } else if (result.artifactBucket === undefined) {
    output.info(`  aws cloudformation package --template-file ${template} --s3-bucket <artifact-bucket> --output-template-file packaged.yaml`);
    output.info('  aws cloudformation deploy --template-file packaged.yaml --stack-name <name> --capabilities CAPABILITY_NAMED_IAM');
  } else {
    output.info(`  aws cloudformation deploy --template-file ${template} --stack-name <name> --capabilities CAPABILITY_NAMED_IAM`);
  }
}
