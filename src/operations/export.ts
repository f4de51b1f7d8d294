/**
 * `export`: the stack as a CloudFormation or SAM template, with the function and layer zips beside it (or in an
 * S3 bucket). Returns what it wrote; prints nothing.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { buildArtifacts, type Artifact } from '../artifact/build.js';
import { sha256Hex } from '../artifact/zip.js';
import { uploadFile } from '../aws/objects.js';
import { stackRuntime, type StackSettings } from '../config/settings.js';
import { renderStackTemplate, type ArtifactLocation, type ExportFormat } from '../export/template.js';
import type { Output } from '../ui/output.js';

export const TEMPLATE_FILE = 'template.json';

export interface ExportOptions {
  settings: StackSettings;
  format: ExportFormat;
  /** Absolute directory for the template and the zips. */
  outDir: string;
  /** Upload the zips here and reference them as S3 objects; needs `s3`. */
  artifactBucket?: string | undefined;
  s3?: S3Client | undefined;
  /** Layer cache root (tests); default the user's cache directory. */
  cacheDir?: string | undefined;
  /** Spinners for the build; nothing else is printed. */
  output?: Output | undefined;
}

export interface ExportedArtifact {
  name: string;
  path: string;
  size: number;
  sha256: string;
  /** `s3://bucket/key`, when uploaded. */
  s3Uri?: string;
}

export interface ExportResult {
  format: ExportFormat;
  outDir: string;
  templatePath: string;
  templateSha256: string;
  artifacts: ExportedArtifact[];
  artifactBucket?: string;
}

/**
 * The zips' S3 keys carry their hash: an unchanged stack exports the same keys (same template bytes), and a
 * changed zip gets a new key, which is what makes CloudFormation update the function or publish a layer version.
 */
export function artifactKey(stackName: string, artifact: Pick<Artifact, 'name' | 'sha256'>): string {
  const extension = path.extname(artifact.name);
  return `img-resizer/${stackName}/${path.basename(artifact.name, extension)}-${artifact.sha256}${extension}`;
}

async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, data);
  await rename(partial, file);
}

export async function exportStack(options: ExportOptions): Promise<ExportResult> {
  const { settings, format, outDir } = options;
  await mkdir(outDir, { recursive: true });
  const built = await buildArtifacts({
    arch: settings.arch,
    runtime: stackRuntime(settings),
    outDir,
    ...(options.output ? { output: options.output } : {}),
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  const zips = [built.functionZip, built.layerZip];
  const locations: ArtifactLocation[] = [];
  const artifacts: ExportedArtifact[] = [];
  for (const zip of zips) {
    const file = zip.path ?? path.join(outDir, zip.name);
    const exported: ExportedArtifact = { name: zip.name, path: file, size: zip.size, sha256: zip.sha256 };
    if (options.artifactBucket === undefined) {
      // Relative to the template, as `aws cloudformation package` and `sam deploy` resolve local paths.
      locations.push({ kind: 'local', file: zip.name });
    } else {
      if (!options.s3) throw new Error('uploading the artifacts needs an S3 client');
      const key = artifactKey(settings.stackName, zip);
      await uploadFile(options.s3, { bucket: options.artifactBucket, key, file, bytes: zip.size, contentType: 'application/zip' });
      locations.push({ kind: 's3', bucket: options.artifactBucket, key });
      exported.s3Uri = `s3://${options.artifactBucket}/${key}`;
    }
    artifacts.push(exported);
  }
  const [functionCode, layerContent] = locations as [ArtifactLocation, ArtifactLocation];
  const text = renderStackTemplate({ settings, format, functionCode, layerContent, layerDescription: built.layerZip.description });
  const templatePath = path.join(outDir, TEMPLATE_FILE);
  await writeAtomically(templatePath, text);
  return {
    format,
    outDir,
    templatePath,
    templateSha256: sha256Hex(Buffer.from(text, 'utf8')),
    artifacts,
    ...(options.artifactBucket === undefined ? {} : { artifactBucket: options.artifactBucket }),
  };
}
