import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StackSettings } from '../../src/config/settings.js';
import { renderStackTemplate, type ExportFormat } from '../../src/export/template.js';
import { exportStack, TEMPLATE_FILE } from '../../src/operations/export.js';
import { DEFAULT_SETTINGS, EVERY_OPTION_SETTINGS, ONE_BUCKET_SETTINGS, WORKFLOW_SETTINGS } from '../helpers/export-settings.js';
import { cfnLint, installCfnLint } from '../helpers/python-tools.js';

let cfnLintBin: string;

beforeAll(async () => {
  cfnLintBin = await installCfnLint();
});

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'img-resizer-export-'));
}

const SETTINGS = [
  ['default settings', DEFAULT_SETTINGS],
  ['every option on', EVERY_OPTION_SETTINGS],
  ['one bucket', ONE_BUCKET_SETTINGS],
  ['workflow mode and every option on', WORKFLOW_SETTINGS],
  ['workflow mode in one bucket (Express, notifications off)', { ...ONE_BUCKET_SETTINGS, orchestration: 'stepfunctions' }],
] as const satisfies readonly (readonly [string, StackSettings])[];
const FORMATS = ['cloudformation', 'sam'] as const satisfies readonly ExportFormat[];

describe.each(SETTINGS)('export with %s', (_name, settings) => {
  it.each(FORMATS)('%s: cfn-lint finds nothing, with local paths and with S3 references', async (format) => {
    const dir = await tempDir();
    const result = await exportStack({ settings, format, outDir: dir });
    // The S3 form as --artifact-bucket writes it, without uploading anything.
    const s3Template = path.join(dir, 's3-template.json');
    await writeFile(
      s3Template,
      renderStackTemplate({
        settings,
        format,
        functionCode: { kind: 's3', bucket: 'artifacts-example', key: 'img-resizer/x/function-0.zip' },
        layerContent: { kind: 's3', bucket: 'artifacts-example', key: 'img-resizer/x/layer-0.zip' },
        layerDescription: 'sharp',
      }),
    );
    const lint = await cfnLint(cfnLintBin, [result.templatePath, s3Template]);
    expect(lint.output).toBe('');
    expect(lint.exitCode).toBe(0);
  });
});

const TWICE = FORMATS.flatMap((format) => [
  [format, 'every option on', EVERY_OPTION_SETTINGS],
  [format, 'workflow mode', WORKFLOW_SETTINGS],
] as const);

it.each(TWICE)('%s, %s: exporting twice writes identical bytes', async (format, _name, settings) => {
  const [first, second] = [await tempDir(), await tempDir()];
  await exportStack({ settings, format, outDir: first });
  await exportStack({ settings: { ...settings }, format, outDir: second });
  const files = (await readdir(first)).sort();
  expect(files).toEqual([TEMPLATE_FILE, 'function.zip', `sharp-layer-${settings.arch}.zip`].sort());
  expect((await readdir(second)).sort()).toEqual(files);
  for (const file of files) {
    expect(Buffer.compare(await readFile(path.join(first, file)), await readFile(path.join(second, file))), file).toBe(0);
  }
});
