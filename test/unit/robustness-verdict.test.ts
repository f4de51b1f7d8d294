import { describe, expect, it } from 'vitest';
import { count, readReviewedRefusals, reviewedRefusal, type FileReport } from '../../scripts/robustness.js';

function refused(file: string, message = 'The TIFF data is corrupt or truncated (tiff2vips: required field 262 missing).'): FileReport {
  const outcome = { code: 'CORRUPT_IMAGE', message, warnings: [] };
  return { file, outcomes: { default: outcome, 'webp-two-sizes': outcome, original: outcome }, depth: 'uchar', reference: { ok: true } };
}

describe('npm run robustness: an honest verdict over reviewed refusals', () => {
  it('the checked-in list names each refusal judged invalid with its reason', async () => {
    const reviewed = await readReviewedRefusals();
    // Issue 20's review: 16 imagetestsuite fuzz files, PngSuite's bad-CRC file, a TIFF without Photometric.
    expect(reviewed).toHaveLength(18);
    expect(reviewed.filter((r) => r.file.startsWith('imagetestsuite/'))).toHaveLength(16);
    expect(reviewed.map((r) => r.file)).toEqual(expect.arrayContaining(['pngsuite/png/xcsn0g01.png', 'pillow/Tests/images/10ct_32bit_128.tiff']));
    for (const entry of reviewed) expect(entry.reason.length).toBeGreaterThan(40);
  });

  it('counts reviewed refusals apart (no failure) and any other refusal of a file Pillow accepts as refused valid', async () => {
    const reviewed = await readReviewedRefusals();
    const reports = [
      refused('pillow/Tests/images/10ct_32bit_128.tiff'),
      // The same file under another top directory: matched as a path suffix.
      refused('suites/pngsuite/png/xcsn0g01.png', 'The PNG data is corrupt or truncated (vipspng: libpng read error).'),
      refused('pillow/Tests/images/new-one.tiff'),
    ];
    const { counts, lists } = count(reports, reviewed);
    expect(counts.refusedReviewed).toBe(2);
    expect(counts.refusedValid).toBe(1);
    expect(lists.refusedValid).toEqual(['pillow/Tests/images/new-one.tiff: The TIFF data is corrupt or truncated (tiff2vips: required field 262 missing).']);
    // Without the list, all three would fail the run.
    expect(count(reports).counts.refusedValid).toBe(3);
  });

  it('matches whole path components only', () => {
    const reviewed = [{ file: 'png/xcsn0g01.png', reason: 'test' }];
    expect(reviewedRefusal('pngsuite/png/xcsn0g01.png', reviewed)).toBeDefined();
    expect(reviewedRefusal('xpng/xcsn0g01.png', reviewed)).toBeUndefined();
  });
});
