/**
 * S3's `sequencer` orders the events of one object key: of two events for the same key, the one with the greater
 * hexadecimal value happened later. Values may differ in length, so S3's documentation says to left-pad the
 * shorter with zeros and then compare them as strings. Case is normalized too, so `0a` and `0A` are equal.
 */

/**
 * Width items store sequencers at: S3's are 16 to 18 hex digits today. At a fixed width, DynamoDB's string
 * comparison (by UTF-8 bytes) is the numeric order, so a condition expression can compare them directly.
 */
export const STORED_SEQUENCER_WIDTH = 32;

const HEX = /^[0-9A-Fa-f]+$/;

/** Whether a string is a sequencer at all (hex digits only); anything else is treated as absent. */
export function isSequencer(value: string): boolean {
  return HEX.test(value);
}

/** Compares two sequencers as S3 documents: <0 when `a` happened before `b`, 0 when equal, >0 when after. */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const left = a.toUpperCase().padStart(width, '0');
  const right = b.toUpperCase().padStart(width, '0');
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The form stored on items: upper case, left-padded to STORED_SEQUENCER_WIDTH (a longer value keeps its length;
 * its leading digits are then compared as S3 would only if they are zeros, which they are for any value a
 * 128-bit width can hold).
 */
export function storedSequencer(sequencer: string): string {
  return sequencer.toUpperCase().padStart(STORED_SEQUENCER_WIDTH, '0');
}
