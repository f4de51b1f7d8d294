import namedColours from 'color-name';

/** An opaque colour, each channel 0-255, as sharp's `background` options take it. */
export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/**
 * A colour as an operator writes it: a CSS colour name (white, black, rebeccapurple) or hex (#fff, #ffffff),
 * case-insensitive; undefined when it is neither. Hand-written for hex (two regular expressions); the names come
 * from the color-name package, the CSS list itself. Deliberately no alpha: the colour fills what a format without
 * alpha cannot keep transparent, so a see-through one would mean nothing.
 */
export function parseColour(text: string): Rgb | undefined {
  const value = text.trim().toLowerCase();
  const named = Object.hasOwn(namedColours, value) ? namedColours[value] : undefined;
  if (named) return { r: named[0], g: named[1], b: named[2] };
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(value);
  if (short) return { r: parseInt(`${short[1]}${short[1]}`, 16), g: parseInt(`${short[2]}${short[2]}`, 16), b: parseInt(`${short[3]}${short[3]}`, 16) };
  const long = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/.exec(value);
  if (long) return { r: parseInt(long[1] ?? '', 16), g: parseInt(long[2] ?? '', 16), b: parseInt(long[3] ?? '', 16) };
  return undefined;
}
