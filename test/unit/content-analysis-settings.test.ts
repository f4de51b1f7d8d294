import { describe, expect, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { loadFunctionSettings } from '../../lambda-src/core/settings.js';
import { initOptionsFrom } from '../../src/commands/init.js';
import { resolveInitSettings, type StackSettings } from '../../src/config/settings.js';
import { UsageError } from '../../src/errors.js';
import { exportedFunctionPolicy } from '../../src/export/template.js';
import { hasLabel } from '../../src/operations/metadata.js';
import { stackModel } from '../../src/provision/stack.js';
import { describeItem } from '../../src/ui/metadata.js';

const base = { locate: () => Promise.resolve({ account: '123456789012', region: 'us-east-1' }), env: {}, file: undefined };
const IDENTITY = { account: '123456789012', partition: 'aws' };

interface Statement { Sid: string; Action: string | string[]; Resource: string | string[] }
const statements = (policy: unknown): Statement[] => (policy as { Statement: Statement[] }).Statement;
const actions = (policy: unknown): string[] => statements(policy).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

async function settingsWith(flags: Parameters<typeof resolveInitSettings>[0]['flags'], env: Record<string, string> = {}): Promise<StackSettings> {
  return (await resolveInitSettings({ ...base, env, flags })).settings;
}

describe('init --labels / --moderation', () => {
  it('off by default: no Rekognition action in the role, no LABELS/MODERATION in the environment, nothing in the settings file', async () => {
    const settings = await settingsWith({});
    expect(settings).not.toHaveProperty('labels');
    expect(settings).not.toHaveProperty('moderation');
    const model = stackModel(settings, IDENTITY, 'us-east-1');
    expect(actions(model.functionPolicy).filter((a) => a.startsWith('rekognition:'))).toEqual([]);
    // s3:DeleteObject comes only from removal handling (issue 12), not from content analysis.
    expect(statements(model.functionPolicy).filter((s) => [s.Action].flat().includes('s3:DeleteObject')).map((s) => s.Sid)).toEqual(['RemoveResizedObjects']);
    const kept = stackModel(await settingsWith({ keepOnDelete: true }), IDENTITY, 'us-east-1');
    expect(actions(kept.functionPolicy)).not.toContain('s3:DeleteObject');
    expect(model.environment).not.toHaveProperty('LABELS');
    expect(model.environment).not.toHaveProperty('MODERATION');
    expect(actions(exportedFunctionPolicy(settings)).filter((a) => a.startsWith('rekognition:'))).toEqual([]);
  });

  it('--labels grants DetectLabels alone, under a Sid saying it takes no resource ARN, and passes the tuning to the function', async () => {
    const settings = await settingsWith({ labels: true, labelsMinConfidence: 85, labelsMax: 5 });
    const model = stackModel(settings, IDENTITY, 'us-east-1');
    const rekognition = statements(model.functionPolicy).filter((s) => [s.Action].flat().some((a) => a.startsWith('rekognition:')));
    expect(rekognition).toEqual([{ Sid: 'DetectImageContentRekognitionActionsTakeNoResourceArn', Effect: 'Allow', Action: ['rekognition:DetectLabels'], Resource: '*' }]);
    expect(statements(model.functionPolicy).map((s) => s.Sid)).not.toContain('RemoveOutputsOfModeratedImages');
    expect(model.environment).toMatchObject({ LABELS: 'on', LABELS_MIN_CONFIDENCE: '85', LABELS_MAX: '5' });
    expect(loadFunctionSettings(model.environment).labels).toEqual({ minConfidence: 85, maxLabels: 5 });
    expect(loadFunctionSettings(model.environment).moderation).toBeUndefined();
    // The exported template grants the same.
    expect(actions(exportedFunctionPolicy(settings))).toContain('rekognition:DetectLabels');
  });

  it('--moderation grants DetectModerationLabels and DeleteObject on the outputs only (a moderated image\'s earlier outputs go)', async () => {
    const settings = await settingsWith({}, { IMG_RESIZER_MODERATION: 'on', IMG_RESIZER_MODERATION_MIN_CONFIDENCE: '60' });
    const model = stackModel(settings, IDENTITY, 'us-east-1');
    expect(actions(model.functionPolicy)).toEqual(expect.arrayContaining(['rekognition:DetectModerationLabels', 's3:DeleteObject']));
    expect(actions(model.functionPolicy)).not.toContain('rekognition:DetectLabels');
    const deletion = statements(model.functionPolicy).find((s) => s.Sid === 'RemoveOutputsOfModeratedImages');
    expect(deletion?.Resource).toEqual([`arn:aws:s3:::${settings.destBucket}/resized-*`, `arn:aws:s3:::${settings.destBucket}/resized/*`]);
    expect(loadFunctionSettings(model.environment).moderation).toEqual({ minConfidence: 60 });
  });

  it('rejects a bad confidence or maximum from the environment or the file before any AWS call', async () => {
    await expect(settingsWith({}, { IMG_RESIZER_LABELS_MIN_CONFIDENCE: '120' })).rejects.toThrow(UsageError);
    await expect(settingsWith({}, { IMG_RESIZER_LABELS: 'maybe' })).rejects.toThrow(/IMG_RESIZER_LABELS: "maybe" is not on or off/);
    await expect(resolveInitSettings({ ...base, flags: {}, file: { labelsMax: 5000 } })).rejects.toThrow(/--labels-max: "5000" is not a whole number from 1 to 1000/);
  });

  it('reads the flags (commander\'s values) into the typed options, --no-labels turning a file\'s labels off', async () => {
    expect(initOptionsFrom({ labels: true, labelsMinConfidence: 80, labelsMax: 3, moderation: true })).toMatchObject({
      labels: true,
      labelsMinConfidence: 80,
      labelsMax: 3,
      moderation: true,
    });
    const off = await resolveInitSettings({ ...base, flags: { labels: false }, file: { labels: true } });
    expect(off.settings).not.toHaveProperty('labels');
  });
});

describe('metadata with labels', () => {
  const item = {
    ImageID: 's3://b/dog.jpg',
    SourceBucket: 'b',
    OriginalFile: 'dog.jpg',
    Status: 'SUCCEEDED',
    Bucket: 'd',
    Outputs: [],
    ProcessedAt: '2026-01-01T00:00:00Z',
    DurationMs: 10,
    Placeholder: 'HBkSHYSIeHiPiHh8eJd4eTN0EEQG',
    DominantColor: '#a0b0c0',
    PerceptualHash: 'c3d4e5f6a7b8c9d0',
    Labels: [{ Name: 'Dog', Confidence: 98.5, Parents: ['Animal', 'Pet'] }],
    Warnings: ['premature end of JPEG data'],
  } as unknown as MetadataItem;

  it('--label matches a label or a parent, regardless of case', () => {
    expect(hasLabel(item, 'dog')).toBe(true);
    expect(hasLabel(item, 'Animal')).toBe(true);
    expect(hasLabel(item, 'Cat')).toBe(false);
    expect(hasLabel({}, 'Dog')).toBe(false);
  });

  it('metadata get shows the placeholder, colour, hash, labels and warnings', () => {
    const text = describeItem(item).join('\n');
    expect(text).toContain('HBkSHYSIeHiPiHh8eJd4eTN0EEQG');
    expect(text).toContain('#a0b0c0');
    expect(text).toContain('c3d4e5f6a7b8c9d0');
    expect(text).toContain('Dog 98.5%');
    expect(text).toContain('premature end of JPEG data');
  });
});
