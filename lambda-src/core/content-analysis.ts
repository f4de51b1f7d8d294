import type { ProcessedOutput } from './image.js';
import type { LabelRecord, ModerationLabelRecord } from './metadata.js';
import type { LabelSettings, ModerationSettings } from './settings.js';
import { sharp } from './sharp.js';

/**
 * Rekognition's byte limit for an image passed inline (Image.Bytes). Larger images would have to be read
 * from S3 by Rekognition, which would need the function's role to lend it read access: never the source.
 */
export const REKOGNITION_MAX_BYTES = 5 * 1024 * 1024;

/** The two Rekognition calls, as the core needs them (lambda-src/aws-ports.ts implements them). */
export interface ContentAnalysisPort {
  /**
   * @throws ImageRefusedError when Rekognition refuses this image for good (format, size); every other error
   * (throttling, 5xx, denied) propagates, and the invocation is retried.
   */
  detectLabels(image: Buffer, options: LabelSettings): Promise<LabelRecord[]>;
  /** @throws ImageRefusedError, as detectLabels */
  detectModerationLabels(image: Buffer, options: ModerationSettings): Promise<ModerationLabelRecord[]>;
}

/** Rekognition refused the image itself (InvalidImageFormatException, ImageTooLargeException): retrying cannot help. */
export class ImageRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageRefusedError';
  }
}

export interface ContentAnalysis {
  labels?: LabelRecord[];
  /** Why there are no labels (labels on, but Rekognition refused the image). */
  labelsUnavailable?: string;
  /** Moderation labels at or over the threshold: non-empty means the image is rejected. */
  moderationLabels?: ModerationLabelRecord[];
}

type Output = Pick<ProcessedOutput, 'body' | 'bytes' | 'width' | 'height' | 'format'>;

/**
 * The image Rekognition is shown: the largest output it accepts (JPEG or PNG, under 5 MB). When no output
 * is one (WebP, AVIF or GIF outputs, or all over 5 MB), the largest output is re-encoded as JPEG, shrunk if
 * needed to stay under the limit. It is never the source, which may be far larger than 5 MB.
 */
export async function analysisImage(outputs: readonly Output[]): Promise<Buffer | undefined> {
  const byArea = [...outputs].sort((a, b) => b.width * b.height - a.width * a.height);
  const accepted = byArea.find((output) => (output.format === 'jpeg' || output.format === 'png') && output.bytes <= REKOGNITION_MAX_BYTES);
  if (accepted) return accepted.body;
  const largest = byArea[0];
  if (!largest) return undefined;
  // 4096 px across is ample for labels and keeps a q85 JPEG well under 5 MB.
  const jpeg = await sharp(largest.body)
    .resize(4096, 4096, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 85 })
    .toBuffer();
  return jpeg.length <= REKOGNITION_MAX_BYTES ? jpeg : undefined;
}

/**
 * Runs the Rekognition calls the settings switch on, side by side, on the analysis image. Transient errors
 * propagate (the caller has written nothing yet, so the retry starts clean).
 */
export async function analyseContent(
  outputs: readonly Output[],
  settings: { labels?: LabelSettings | undefined; moderation?: ModerationSettings | undefined },
  port: ContentAnalysisPort,
): Promise<ContentAnalysis> {
  const { labels, moderation } = settings;
  if (!labels && !moderation) return {};
  const image = await analysisImage(outputs);
  if (image === undefined) {
    return labels ? { labelsUnavailable: `No output could be made into an image under Rekognition's ${REKOGNITION_MAX_BYTES} bytes.` } : {};
  }
  const [labelResult, moderationResult] = await Promise.all([
    labels ? refusalAsReason(port.detectLabels(image, labels)) : undefined,
    moderation ? refusalAsReason(port.detectModerationLabels(image, moderation)) : undefined,
  ]);
  const analysis: ContentAnalysis = {};
  if (labelResult) {
    if ('value' in labelResult) analysis.labels = labelResult.value.slice(0, labels?.maxLabels);
    else analysis.labelsUnavailable = labelResult.reason;
  }
  if (moderationResult && 'value' in moderationResult && moderation) {
    const over = moderationResult.value.filter((label) => label.Confidence >= moderation.minConfidence);
    if (over.length > 0) analysis.moderationLabels = over;
  }
  // A refused moderation check lets the image through (Rekognition could not judge it); the refusal is
  // recorded for the operator.
  if (moderationResult && 'reason' in moderationResult && analysis.labelsUnavailable === undefined) {
    analysis.labelsUnavailable = moderationResult.reason;
  }
  return analysis;
}

async function refusalAsReason<T>(call: Promise<T>): Promise<{ value: T } | { reason: string }> {
  try {
    return { value: await call };
  } catch (error) {
    if (error instanceof ImageRefusedError) return { reason: error.message };
    throw error;
  }
}

/** The item attributes of an analysis. */
export function analysisAttributes(analysis: ContentAnalysis): {
  Labels?: LabelRecord[];
  LabelsUnavailable?: string;
  ModerationLabels?: ModerationLabelRecord[];
} {
  return {
    ...(analysis.labels ? { Labels: analysis.labels } : {}),
    ...(analysis.labelsUnavailable === undefined ? {} : { LabelsUnavailable: analysis.labelsUnavailable }),
    ...(analysis.moderationLabels ? { ModerationLabels: analysis.moderationLabels } : {}),
  };
}
