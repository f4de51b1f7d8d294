/**
 * The 1/8-scale image of a progressive JPEG, decoded from its DC scans only.
 *
 * libjpeg decodes a baseline JPEG at 1/8 scale from the DC coefficients alone, but a progressive JPEG is
 * entropy-decoded whole (every AC scan) before that scaling applies. At 1/8 scale only the DC scans matter: one
 * pixel per 8x8 block, the block's DC coefficient (dequantized, descaled by 8, plus 128), exactly what libjpeg's
 * 1x1 inverse DCT (jpeg_idct_1x1) makes. So this walks the markers, decodes the DC first scan and the DC
 * successive-approximation refinement scans, and steps over the AC scans' data without decoding it.
 *
 * Hand-written: no npm JPEG decoder decodes the DC scans alone (jpeg-js and the WASM decoders decode every
 * scan), and the DC part of a progressive decoder is small (Huffman DC differences and one refinement bit).
 *
 * Anything unusual returns undefined and the caller takes the ordinary path, so a file this code does not fully
 * understand is never turned into a wrong image: baseline or lossless frames, arithmetic coding, 12-bit samples,
 * DNL, more than four components (or two), odd sampling factors, a missing or out-of-order DC scan, restart
 * markers out of sequence, truncated data.
 */

/** Why the fast path was not taken (for logs and tests); never an error for the caller. */
export class NotDecodable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NotDecodable';
  }
}

export type DcColour = 'b-w' | 'srgb' | 'cmyk';

export interface DcImage {
  /** floor(width / 8) and floor(height / 8) of the source (at least 1), as libvips' shrink-on-load gives. */
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (CMYK, 0 = no ink), interleaved, 8 bits per sample. */
  channels: 1 | 3 | 4;
  colour: DcColour;
  pixels: Buffer;
  /** Of the source, for the caller's reference. */
  sourceWidth: number;
  sourceHeight: number;
}

interface HuffmanTable {
  /** Indexed by the next LOOKUP_BITS bits: (code length << 8) | value, or 0 for a longer code. */
  lookup: Uint16Array;
  /** For code length L (1-16): largest code of that length, or -1. */
  maxCode: Int32Array;
  /** For code length L: index into `values` of the first code of that length, minus that code. */
  offset: Int32Array;
  values: Uint8Array;
}

interface Component {
  id: number;
  h: number;
  v: number;
  quantTable: number;
  /** Blocks per line and column in the MCU-padded grid. */
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Blocks that hold image data (a non-interleaved scan covers only these). */
  dataBlocksWide: number;
  dataBlocksHigh: number;
  dc: Int32Array;
  /** Quantization table (zigzag order), latched at the component's first scan as libjpeg does. */
  quant: Uint16Array | undefined;
  /**
   * libjpeg's DCT scaled size for this component at 1/8 scale (jdmaster.c): 1 for full-resolution components
   * and 4:2:2 chroma, 2 for 4:2:0 chroma, which libjpeg scales up by a 2x2 inverse DCT (jpeg_idct_2x2, using AC
   * coefficients) rather than by upsampling. Those components' AC scans are decoded too.
   */
  scale: 1 | 2;
  /** For scale 2: every block's 64 coefficients in zigzag order (DC kept in `dc`). */
  coefficients: Int16Array | undefined;
  /**
   * For scale 2: per block, the highest zigzag index holding a nonzero AC coefficient (0: none). Refinement of an
   * end-of-band run and the IDCT of a flat block stop there: most chroma blocks have few or no AC terms.
   */
  lastNonzero: Uint8Array | undefined;
  /** For scale 2: per zigzag AC coefficient, the successive-approximation bit reached; -1 before its first scan. */
  coefficientBits: Int8Array;
  /** Successive-approximation bit position reached so far; -1 before the first DC scan. */
  al: number;
}

interface Frame {
  width: number;
  height: number;
  components: Component[];
  hMax: number;
  vMax: number;
  mcusWide: number;
  mcusHigh: number;
}

function fail(reason: string): never {
  throw new NotDecodable(reason);
}

/** Bits of a lookup table entry: codes up to this long decode in one step. */
const LOOKUP_BITS = 9;

/**
 * Reads entropy-coded bits, undoing byte stuffing, up to 32 at a time. Past a marker it feeds zero bits, as
 * libjpeg does, but only to look ahead: consuming one of them means the scan is truncated, and the fast path is
 * abandoned.
 */
class BitReader {
  private acc = 0;
  private count = 0;
  /** Zero bits fed after a marker, at the bottom of `acc`. */
  private padding = 0;

  constructor(
    private readonly data: Buffer,
    public pos: number,
  ) {}

  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      if (this.padding === 0) {
        const next = this.data[this.pos];
        if (next === undefined) {
          this.padding = 0;
        } else if (next === 0xff) {
          if (this.data[this.pos + 1] === 0x00) {
            this.pos += 2;
            byte = 0xff;
          }
        } else {
          this.pos += 1;
          byte = next;
        }
        if (next === undefined || (next === 0xff && byte === 0)) this.padding = 8;
        else {
          this.acc = ((this.acc << 8) | byte) >>> 0;
          this.count += 8;
          continue;
        }
      } else this.padding += 8;
      this.acc = (this.acc << 8) >>> 0;
      this.count += 8;
    }
  }

  private consume(length: number): void {
    this.count -= length;
    if (this.count < this.padding) fail('entropy-coded data ends early (truncated scan)');
  }

  bit(): number {
    if (this.count < 1) this.fill();
    const value = (this.acc >>> (this.count - 1)) & 1;
    this.consume(1);
    return value;
  }

  receive(length: number): number {
    if (this.count < length) this.fill();
    const value = (this.acc >>> (this.count - length)) & ((1 << length) - 1);
    this.consume(length);
    return value;
  }

  decode(table: HuffmanTable): number {
    if (this.count < 16) this.fill();
    const entry = table.lookup[(this.acc >>> (this.count - LOOKUP_BITS)) & ((1 << LOOKUP_BITS) - 1)] ?? 0;
    if (entry !== 0) {
      this.consume(entry >> 8);
      return entry & 0xff;
    }
    // Longer codes: canonical decoding, one length at a time.
    for (let length = LOOKUP_BITS + 1; length <= 16; length++) {
      const code = (this.acc >>> (this.count - length)) & ((1 << length) - 1);
      if (code <= (table.maxCode[length] ?? -1)) {
        this.consume(length);
        return table.values[code + (table.offset[length] ?? 0)] ?? fail('bad Huffman code');
      }
    }
    return fail('bad Huffman code');
  }

  /** Drops the partial byte: scans and restart intervals start byte-aligned. */
  align(): void {
    // Whole bytes read ahead go back; the bits of a partly used byte are dropped.
    const unreadBytes = Math.floor((this.count - this.padding) / 8);
    this.pos = this.rewind(unreadBytes);
    this.acc = 0;
    this.count = 0;
    this.padding = 0;
  }

  /** The position `bytes` data bytes back from `pos`, counting a stuffed 0xFF 0x00 as one. */
  private rewind(bytes: number): number {
    let at = this.pos;
    for (let i = 0; i < bytes; i++) at -= this.data[at - 1] === 0x00 && this.data[at - 2] === 0xff ? 2 : 1;
    return at;
  }

  /** After a restart interval: the expected RSTn marker, or the fast path is abandoned. */
  restart(expected: number): void {
    this.align();
    if (this.data[this.pos] !== 0xff || this.data[this.pos + 1] !== 0xd0 + expected) fail('restart marker missing or out of sequence');
    this.pos += 2;
  }
}

/** JPEG's EXTEND: a `length`-bit magnitude as a signed difference. */
function extend(value: number, length: number): number {
  return value < 1 << (length - 1) ? value - (1 << length) + 1 : value;
}

function huffmanTable(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxCode = new Int32Array(18).fill(-1);
  const offset = new Int32Array(18);
  let code = 0;
  let index = 0;
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1] ?? 0;
    offset[length] = index - code;
    if (n > 0) {
      code += n;
      index += n;
      maxCode[length] = code - 1;
    }
    code <<= 1;
  }
  if (index > values.length) fail('DHT lists more codes than values');
  const lookup = new Uint16Array(1 << LOOKUP_BITS);
  let canonical = 0;
  let at = 0;
  for (let length = 1; length <= LOOKUP_BITS; length++) {
    const n = counts[length - 1] ?? 0;
    for (let i = 0; i < n; i++, at++, canonical++) {
      const shift = LOOKUP_BITS - length;
      const first = canonical << shift;
      for (let fill = 0; fill < 1 << shift; fill++) lookup[first + fill] = (length << 8) | (values[at] ?? 0);
    }
    canonical <<= 1;
  }
  return { lookup, maxCode, offset, values };
}

/** Position of the next marker that is not a restart marker, from `pos` (steps over AC scan data). */
function nextMarker(data: Buffer, pos: number): number {
  let at = pos;
  for (;;) {
    at = data.indexOf(0xff, at);
    if (at === -1 || at + 1 >= data.length) return fail('no marker after scan data');
    const next = data[at + 1] ?? 0;
    if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) at += next === 0xff ? 1 : 2;
    else return at;
  }
}

function parseFrame(segment: Buffer): Frame {
  if (segment.length < 6) fail('short SOF');
  const precision = segment[0];
  if (precision !== 8) fail(`${precision ?? '?'}-bit samples`);
  const height = segment.readUInt16BE(1);
  const width = segment.readUInt16BE(3);
  if (height === 0) fail('height defined by DNL');
  if (width === 0) fail('zero width');
  const count = segment[5] ?? 0;
  if (count !== 1 && count !== 3 && count !== 4) fail(`${count} components`);
  if (segment.length < 6 + count * 3) fail('short SOF');
  const raw: { id: number; h: number; v: number; quantTable: number }[] = [];
  for (let i = 0; i < count; i++) {
    const at = 6 + i * 3;
    const sampling = segment[at + 1] ?? 0;
    const h = sampling >> 4;
    const v = sampling & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) fail('bad sampling factors');
    const quantTable = segment[at + 2] ?? 0;
    if (quantTable > 3) fail('bad quantization table index');
    if (raw.some((c) => c.id === segment[at])) fail('duplicate component id');
    raw.push({ id: segment[at] ?? 0, h, v, quantTable });
  }
  const hMax = Math.max(...raw.map((c) => c.h));
  const vMax = Math.max(...raw.map((c) => c.v));
  const mcusWide = Math.ceil(width / (8 * hMax));
  const mcusHigh = Math.ceil(height / (8 * vMax));
  const components = raw.map((c): Component => {
    // Upsampling from the DC grid needs whole ratios (libjpeg's own 1/8 path has the same restriction in practice).
    if (hMax % c.h !== 0 || vMax % c.v !== 0) fail('non-integral sampling ratio');
    const blocksPerLine = mcusWide * c.h;
    const blocksPerColumn = mcusHigh * c.v;
    // jdmaster.c: a component's IDCT is scaled up by powers of two while both its ratios stay divisible.
    let scale = 1;
    while (scale < 8 && hMax % (c.h * scale * 2) === 0 && vMax % (c.v * scale * 2) === 0) scale *= 2;
    // Scale 2 is taken only where it reaches the full 1/8 grid (4:2:0); anything else (4x4 sampling) falls back.
    if (scale > 2 || (scale === 2 && (hMax !== 2 * c.h || vMax !== 2 * c.v))) fail('chroma scaled beyond a 2x2 IDCT');
    return {
      scale: scale as 1 | 2,
      coefficients: scale === 2 ? new Int16Array(blocksPerLine * blocksPerColumn * 64) : undefined,
      lastNonzero: scale === 2 ? new Uint8Array(blocksPerLine * blocksPerColumn) : undefined,
      coefficientBits: new Int8Array(64).fill(-1),
      ...c,
      blocksPerLine,
      blocksPerColumn,
      dataBlocksWide: Math.ceil(Math.ceil((width * c.h) / hMax) / 8),
      dataBlocksHigh: Math.ceil(Math.ceil((height * c.v) / vMax) / 8),
      dc: new Int32Array(blocksPerLine * blocksPerColumn),
      quant: undefined,
      al: -1,
    };
  });
  return { width, height, components, hMax, vMax, mcusWide, mcusHigh };
}

interface ScanHeader {
  components: { component: Component; dcTable: number; acTable: number }[];
  ss: number;
  se: number;
  ah: number;
  al: number;
}

function parseScanHeader(segment: Buffer, frame: Frame): ScanHeader {
  const count = segment[0] ?? 0;
  if (count < 1 || count > 4 || segment.length < 4 + count * 2) fail('bad SOS');
  const components: ScanHeader['components'] = [];
  for (let i = 0; i < count; i++) {
    const id = segment[1 + i * 2];
    const component = frame.components.find((c) => c.id === id) ?? fail('scan names an unknown component');
    components.push({ component, dcTable: (segment[2 + i * 2] ?? 0) >> 4, acTable: (segment[2 + i * 2] ?? 0) & 15 });
  }
  const at = 1 + count * 2;
  const approximation = segment[at + 2] ?? 0;
  return { components, ss: segment[at] ?? 0, se: segment[at + 1] ?? 0, ah: approximation >> 4, al: approximation & 15 };
}

/** Decodes one DC scan (first or refinement) from `pos`; returns the position after its entropy-coded data. */
function decodeDcScan(
  data: Buffer,
  pos: number,
  frame: Frame,
  scan: ScanHeader,
  dcTables: (HuffmanTable | undefined)[],
  quantTables: (Uint16Array | undefined)[],
  restartInterval: number,
): number {
  if (scan.se !== 0) fail('a scan mixing DC and AC coefficients');
  if (scan.al > 13) fail('bad successive approximation');
  const first = scan.ah === 0;
  for (const { component, dcTable } of scan.components) {
    if (first) {
      if (component.al !== -1) fail('a second DC first scan for a component');
      component.quant = quantTables[component.quantTable] ?? fail('no quantization table for a component');
      if (dcTables[dcTable] === undefined) fail('no DC Huffman table for a scan');
    } else if (component.al !== scan.ah || scan.al !== scan.ah - 1) {
      fail('DC refinement scan out of order');
    }
  }
  const reader = new BitReader(data, pos);
  const shiftedOne = 1 << scan.al;
  // Per scan component: its block grid, Huffman table and DC prediction. Plain loops, no closures: this runs
  // once per block, hundreds of thousands of times for a large photo.
  const members = scan.components.map(({ component, dcTable }) => ({
    component,
    dc: component.dc,
    table: first ? (dcTables[dcTable] ?? fail('no DC Huffman table')) : undefined,
    prediction: 0,
  }));
  const decodeBlock = (member: (typeof members)[number], blockAt: number): void => {
    if (member.table !== undefined) {
      const length = reader.decode(member.table);
      if (length > 11) fail('DC difference out of range');
      if (length !== 0) member.prediction += extend(reader.receive(length), length);
      member.dc[blockAt] = member.prediction * shiftedOne;
    } else if (reader.bit() === 1) member.dc[blockAt] = (member.dc[blockAt] ?? 0) | shiftedOne;
  };
  let restarts = 0;
  let untilRestart = restartInterval;
  const afterMcu = (last: boolean): void => {
    if (restartInterval === 0 || last) return;
    untilRestart -= 1;
    if (untilRestart === 0) {
      reader.restart(restarts & 7);
      restarts += 1;
      untilRestart = restartInterval;
      for (const member of members) member.prediction = 0;
    }
  };

  if (members.length === 1) {
    // Non-interleaved: the component's data blocks in raster order, one block per MCU.
    const [member] = members as [(typeof members)[number]];
    const { component } = member;
    const rows = component.dataBlocksHigh;
    const cols = component.dataBlocksWide;
    for (let row = 0; row < rows; row++) {
      const rowAt = row * component.blocksPerLine;
      for (let col = 0; col < cols; col++) {
        decodeBlock(member, rowAt + col);
        if (restartInterval !== 0) afterMcu(row === rows - 1 && col === cols - 1);
      }
    }
  } else {
    if (members.reduce((total, { component }) => total + component.h * component.v, 0) > 10) fail('too many blocks per MCU');
    for (let mcuRow = 0; mcuRow < frame.mcusHigh; mcuRow++) {
      for (let mcuCol = 0; mcuCol < frame.mcusWide; mcuCol++) {
        for (const member of members) {
          const { h: ch, v: cv, blocksPerLine } = member.component;
          for (let v = 0; v < cv; v++) {
            const rowAt = (mcuRow * cv + v) * blocksPerLine + mcuCol * ch;
            for (let h = 0; h < ch; h++) decodeBlock(member, rowAt + h);
          }
        }
        if (restartInterval !== 0) afterMcu(mcuRow === frame.mcusHigh - 1 && mcuCol === frame.mcusWide - 1);
      }
    }
  }
  for (const { component } of scan.components) component.al = scan.al;
  reader.align();
  return reader.pos;
}

/**
 * Decodes one AC scan (first or refinement, jdphuff.c's decode_mcu_AC_first / decode_mcu_AC_refine) of a
 * component whose 2x2 IDCT needs its AC coefficients; returns the position after its entropy-coded data.
 */
function decodeAcScan(data: Buffer, pos: number, scan: ScanHeader, acTables: (HuffmanTable | undefined)[], restartInterval: number): number {
  const [member] = scan.components as [ScanHeader['components'][number]];
  const { component } = member;
  const coefficients = component.coefficients ?? fail('AC scan of a component without coefficients');
  const lastNonzero = component.lastNonzero ?? fail('AC scan of a component without coefficients');
  const table = acTables[member.acTable] ?? fail('no AC Huffman table for a scan');
  const { ss, se, ah, al } = scan;
  if (ss > se || se > 63 || al > 13) fail('bad AC scan band');
  if (component.al === -1) fail('AC scan before the DC scan');
  const bits = component.coefficientBits;
  for (let k = ss; k <= se; k++) {
    if (ah === 0 ? bits[k] !== -1 : bits[k] !== ah || al !== ah - 1) fail('AC scans out of order');
  }
  const reader = new BitReader(data, pos);
  const rows = component.dataBlocksHigh;
  const cols = component.dataBlocksWide;
  const positive = 1 << al;
  const negative = -1 << al;
  let eobRun = 0;
  let restarts = 0;
  let untilRestart = restartInterval;
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const block = row * component.blocksPerLine + col;
      const base = block * 64;
      if (ah === 0) {
        if (eobRun > 0) eobRun -= 1;
        else {
          for (let k = ss; k <= se; k++) {
            const symbol = reader.decode(table);
            const run = symbol >> 4;
            const size = symbol & 15;
            if (size !== 0) {
              k += run;
              if (k > 63) fail('AC run past the block');
              coefficients[base + k] = extend(reader.receive(size), size) * positive;
              if (k > (lastNonzero[block] ?? 0)) lastNonzero[block] = k;
            } else if (run === 15) k += 15;
            else {
              eobRun = (1 << run) - 1;
              if (run !== 0) eobRun += reader.receive(run);
              break;
            }
          }
        }
      } else {
        let k = ss;
        if (eobRun === 0) {
          for (; k <= se; k++) {
            const symbol = reader.decode(table);
            let run = symbol >> 4;
            const size = symbol & 15;
            let value = 0;
            if (size !== 0) value = reader.bit() === 1 ? positive : negative;
            else if (run !== 15) {
              eobRun = 1 << run;
              if (run !== 0) eobRun += reader.receive(run);
              break;
            }
            // Correction bits for the nonzero coefficients passed, zero ones counted against the run.
            while (k <= se) {
              const at = base + k;
              const current = coefficients[at] ?? 0;
              if (current !== 0) {
                if (reader.bit() === 1 && (current & positive) === 0) coefficients[at] = current >= 0 ? current + positive : current + negative;
              } else {
                run -= 1;
                if (run < 0) break;
              }
              k += 1;
            }
            if (value !== 0) {
              if (k > 63) fail('AC run past the block');
              coefficients[base + k] = value;
              if (k > (lastNonzero[block] ?? 0)) lastNonzero[block] = k;
            }
          }
        }
        if (eobRun > 0) {
          // Only nonzero coefficients take a correction bit, and none lies past lastNonzero.
          const end = Math.min(se, lastNonzero[block] ?? 0);
          for (; k <= end; k++) {
            const at = base + k;
            const current = coefficients[at] ?? 0;
            if (current !== 0 && reader.bit() === 1 && (current & positive) === 0) coefficients[at] = current >= 0 ? current + positive : current + negative;
          }
          eobRun -= 1;
        }
      }
      if (restartInterval !== 0 && !(row === rows - 1 && col === cols - 1)) {
        untilRestart -= 1;
        if (untilRestart === 0) {
          reader.restart(restarts & 7);
          restarts += 1;
          untilRestart = restartInterval;
          eobRun = 0;
        }
      }
    }
  }
  for (let k = ss; k <= se; k++) bits[k] = al;
  reader.align();
  return reader.pos;
}

/**
 * Reads the markers of a JPEG and, when it is a progressive Huffman-coded 8-bit image this code understands,
 * returns its 1/8-scale image from the DC scans; otherwise throws NotDecodable with the reason.
 */
export function decodeDcImage(data: Buffer): DcImage {
  if (data[0] !== 0xff || data[1] !== 0xd8) fail('not a JPEG');
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  const quantTables: (Uint16Array | undefined)[] = [];
  let frame: Frame | undefined;
  let restartInterval = 0;
  let adobeTransform: number | undefined;
  let jfif = false;
  let pos = 2;
  for (;;) {
    if (data[pos] !== 0xff) fail('garbage between segments');
    while (data[pos + 1] === 0xff) pos += 1;
    const marker = data[pos + 1];
    if (marker === undefined) fail('no EOI');
    if (marker === 0xd9) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    if (pos + 4 > data.length) fail('truncated segment');
    const length = data.readUInt16BE(pos + 2);
    if (length < 2 || pos + 2 + length > data.length) fail('truncated segment');
    const segment = data.subarray(pos + 4, pos + 2 + length);
    let next = pos + 2 + length;
    switch (marker) {
      case 0xc2:
        if (frame) fail('two frames');
        frame = parseFrame(segment);
        break;
      case 0xc4:
        readHuffmanTables(segment, dcTables, acTables);
        break;
      case 0xcc:
        fail('arithmetic coding');
        break;
      case 0xdb:
        readQuantTables(segment, quantTables);
        break;
      case 0xdc:
        fail('DNL');
        break;
      case 0xdd:
        if (segment.length < 2) fail('short DRI');
        restartInterval = segment.readUInt16BE(0);
        break;
      case 0xe0:
        if (segment.subarray(0, 5).toString('latin1') === 'JFIF\0') jfif = true;
        break;
      case 0xee:
        if (segment.length >= 12 && segment.subarray(0, 5).toString('latin1') === 'Adobe') adobeTransform = segment[11];
        break;
      case 0xda: {
        if (!frame) fail('scan before frame');
        const scan = parseScanHeader(segment, frame);
        if (scan.ss === 0) next = decodeDcScan(data, next, frame, scan, dcTables, quantTables, restartInterval);
        else if (scan.components.length !== 1) fail('interleaved AC scan');
        else if (scan.components[0]?.component.scale === 2) next = decodeAcScan(data, next, scan, acTables, restartInterval);
        next = nextMarker(data, next);
        break;
      }
      default:
        if (marker >= 0xc0 && marker <= 0xcf) fail('not a progressive Huffman frame');
    }
    pos = next;
  }
  if (!frame) return fail('no frame');
  for (const component of frame.components) {
    if (component.al !== 0) fail('DC scans incomplete');
    // Missing AC bands would make libjpeg smooth the blocks (jdcoefct.c): not reproduced here.
    if (component.scale === 2 && component.coefficientBits.some((bits, k) => k > 0 && bits !== 0)) fail('AC scans incomplete');
  }
  return toPixels(frame, colourOf(frame, adobeTransform, jfif));
}

function readHuffmanTables(segment: Buffer, dcTables: (HuffmanTable | undefined)[], acTables: (HuffmanTable | undefined)[]): void {
  let at = 0;
  while (at < segment.length) {
    const info = segment[at] ?? 0;
    const counts = segment.subarray(at + 1, at + 17);
    if (counts.length < 16) fail('short DHT');
    const total = counts.reduce((sum, n) => sum + n, 0);
    const values = segment.subarray(at + 17, at + 17 + total);
    if (values.length < total) fail('short DHT');
    if ((info & 15) > 3 || info >> 4 > 1) fail('bad DHT index');
    // AC tables serve only the 2x2-scaled components' scans; the other AC scans are stepped over.
    if (info >> 4 === 0) dcTables[info & 15] = huffmanTable(new Uint8Array(counts), new Uint8Array(values));
    else acTables[info & 15] = huffmanTable(new Uint8Array(counts), new Uint8Array(values));
    at += 17 + total;
  }
}

function readQuantTables(segment: Buffer, quantTables: (Uint16Array | undefined)[]): void {
  let at = 0;
  while (at < segment.length) {
    const info = segment[at] ?? 0;
    const wide = info >> 4 === 1;
    const size = wide ? 128 : 64;
    if (at + 1 + size > segment.length || (info & 15) > 3) fail('bad DQT');
    const table = new Uint16Array(64);
    for (let i = 0; i < 64; i++) table[i] = wide ? segment.readUInt16BE(at + 1 + i * 2) : (segment[at + 1 + i] ?? 0);
    quantTables[info & 15] = table;
    at += 1 + size;
  }
}

type Transform = 'grey' | 'rgb' | 'ycbcr' | 'cmyk' | 'ycck';

/** The colour transform libjpeg would infer (jdapimin.c default_decompress_parms). */
function colourOf(frame: Frame, adobeTransform: number | undefined, jfif: boolean): { transform: Transform; invert: boolean } {
  const count = frame.components.length;
  if (count === 1) return { transform: 'grey', invert: false };
  if (count === 3) {
    if (jfif) return { transform: 'ycbcr', invert: false };
    if (adobeTransform !== undefined) {
      if (adobeTransform === 0) return { transform: 'rgb', invert: false };
      if (adobeTransform === 1) return { transform: 'ycbcr', invert: false };
      return fail('unknown Adobe transform');
    }
    const ids = frame.components.map((c) => c.id).join(',');
    if (ids === '82,71,66') return { transform: 'rgb', invert: false };
    return { transform: 'ycbcr', invert: false };
  }
  // Four components: CMYK, or YCCK per the Adobe marker. Adobe writes its CMYK inverted; libvips undoes that
  // whenever the Adobe marker is present, so this does too.
  const invert = adobeTransform !== undefined;
  if (adobeTransform === undefined || adobeTransform === 0) return { transform: 'cmyk', invert };
  if (adobeTransform === 2) return { transform: 'ycck', invert };
  return fail('unknown Adobe transform');
}

const clamp = (value: number): number => (value < 0 ? 0 : value > 255 ? 255 : value);

/**
 * One sample per block per component (jpeg_idct_1x1: dequantize, descale by 8 with rounding, +128), subsampled
 * components brought up to the full 1/8 grid by the triangle filter libjpeg's "fancy" upsampling uses, then
 * the colour transform.
 */
function toPixels(frame: Frame, colour: { transform: Transform; invert: boolean }): DcImage {
  // Rounded down, as libvips' shrink-on-load gives it (libjpeg's own output rounds up; libvips drops the partial
  // last block, and sharp's resize after it counts on those dimensions).
  const width = Math.max(1, Math.floor(frame.width / 8));
  const height = Math.max(1, Math.floor(frame.height / 8));
  const planes = frame.components.map((component) => {
    if (component.scale === 2) return crop(idct2x2(component), component.blocksPerLine * 2, width, height);
    const quant = component.quant?.[0] ?? 1;
    const samples = new Uint8ClampedArray(component.blocksPerLine * component.blocksPerColumn);
    for (let i = 0; i < samples.length; i++) samples[i] = (((component.dc[i] ?? 0) * quant + 4) >> 3) + 128;
    return upsample(samples, component, frame, width, height);
  });
  const channels = colour.transform === 'grey' ? 1 : colour.transform === 'cmyk' || colour.transform === 'ycck' ? 4 : 3;
  const pixels = Buffer.allocUnsafe(width * height * channels);
  const [p0, p1, p2, p3] = planes as [Uint8ClampedArray, Uint8ClampedArray, Uint8ClampedArray, Uint8ClampedArray | undefined];
  const count = width * height;
  if (colour.transform === 'ycbcr') {
    // The common case in its own loop (JFIF's YCbCr to RGB in libjpeg's jdcolor.c fixed point: FIX(1.402) etc.
    // at 16 bits, so the samples match its own decode).
    for (let i = 0, out = 0; i < count; i++, out += 3) {
      const y = p0[i] ?? 0;
      const cb = (p1[i] ?? 128) - 128;
      const cr = (p2[i] ?? 128) - 128;
      pixels[out] = clamp(y + ((91881 * cr + 32768) >> 16));
      pixels[out + 1] = clamp(y + ((-22554 * cb - 46802 * cr + 32768) >> 16));
      pixels[out + 2] = clamp(y + ((116130 * cb + 32768) >> 16));
    }
  } else for (let i = 0; i < count; i++) {
    const out = i * channels;
    switch (colour.transform) {
      case 'grey':
        pixels[out] = p0[i] ?? 0;
        break;
      case 'rgb':
        pixels[out] = p0[i] ?? 0;
        pixels[out + 1] = p1[i] ?? 0;
        pixels[out + 2] = p2[i] ?? 0;
        break;
      case 'ycck': {
        const y = p0[i] ?? 0;
        const cb = (p1[i] ?? 128) - 128;
        const cr = (p2[i] ?? 128) - 128;
        const r = clamp(y + ((91881 * cr + 32768) >> 16));
        const g = clamp(y + ((-22554 * cb - 46802 * cr + 32768) >> 16));
        const b = clamp(y + ((116130 * cb + 32768) >> 16));
        // libjpeg's YCCK to CMYK gives 255 - R, 255 - G, 255 - B and K as stored.
        const k = p3?.[i] ?? 0;
        pixels[out] = colour.invert ? r : 255 - r;
        pixels[out + 1] = colour.invert ? g : 255 - g;
        pixels[out + 2] = colour.invert ? b : 255 - b;
        pixels[out + 3] = colour.invert ? 255 - k : k;
        break;
      }
      case 'cmyk':
        for (let c = 0; c < 4; c++) {
          const value = planes[c]?.[i] ?? 0;
          pixels[out + c] = colour.invert ? 255 - value : value;
        }
        break;
    }
  }
  return {
    width,
    height,
    channels,
    colour: channels === 1 ? 'b-w' : channels === 4 ? 'cmyk' : 'srgb',
    pixels,
    sourceWidth: frame.width,
    sourceHeight: frame.height,
  };
}

/** The top-left width x height of a plane `stride` samples wide. */
function crop(plane: Uint8ClampedArray, stride: number, width: number, height: number): Uint8ClampedArray {
  if (stride === width) return plane.subarray(0, width * height);
  const out = new Uint8ClampedArray(width * height);
  for (let y = 0; y < height; y++) out.set(plane.subarray(y * stride, y * stride + width), y * width);
  return out;
}

/** Zigzag index of each natural (row-major) position. */
const ZIGZAG_OF = (() => {
  const natural = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63];
  const zigzag = new Uint8Array(64);
  natural.forEach((position, k) => (zigzag[position] = k));
  return zigzag;
})();
/** The rows and columns jpeg_idct_2x2 reads: the DC and the odd frequencies. */
const IDCT_2X2_TERMS = [0, 1, 3, 5, 7] as const;
/** jidctred.c's constants (CONST_BITS 13): sqrt(2) times sums of the odd cosines, for terms 1, 3, 5, 7. */
const IDCT_2X2_ODD = [29692, -10426, 6967, -5906] as const;

/**
 * A 2x2-scaled component (4:2:0 chroma): libjpeg's jpeg_idct_2x2 on every block, integer for integer (its
 * descaling and range limit), giving a plane two samples per block each way. Doubles: the products pass 2^31.
 */
function idct2x2(component: Component): Uint8ClampedArray {
  const coefficients = component.coefficients ?? fail('no coefficients');
  const lastNonzero = component.lastNonzero ?? fail('no coefficients');
  const quant = component.quant ?? fail('no quantization table');
  const stride = component.blocksPerLine * 2;
  const out = new Uint8ClampedArray(stride * component.blocksPerColumn * 2);
  // Per used natural position: the zigzag index of its coefficient and its dequantizer.
  const index = new Int32Array(64);
  const dequant = new Float64Array(64);
  for (const row of IDCT_2X2_TERMS) {
    for (const col of IDCT_2X2_TERMS) {
      const zz = ZIGZAG_OF[row * 8 + col] ?? 0;
      index[row * 8 + col] = zz;
      dequant[row * 8 + col] = quant[zz] ?? 0;
    }
  }
  const workspace = new Float64Array(16);
  const [odd1, odd3, odd5, odd7] = IDCT_2X2_ODD;
  const dc = component.dc;
  // No closures in here: once per block, and per column. Math.floor of a quotient is the arithmetic shift.
  for (let by = 0; by < component.blocksPerColumn; by++) {
    for (let bx = 0; bx < component.blocksPerLine; bx++) {
      const block = by * component.blocksPerLine + bx;
      const base = block * 64;
      if (lastNonzero[block] === 0) {
        // DC only: jpeg_idct_2x2's arithmetic reduces to jpeg_idct_1x1's, the same value four times.
        const flat = Math.floor(((dc[block] ?? 0) * (dequant[0] ?? 0) + 4) / 8) + 128;
        const outAt = by * 2 * stride + bx * 2;
        out[outAt] = flat;
        out[outAt + 1] = flat;
        out[outAt + stride] = flat;
        out[outAt + stride + 1] = flat;
        continue;
      }
      // Pass 1: columns 0, 1, 3, 5, 7 into two workspace rows (PASS1_BITS 2, descaled by CONST_BITS - PASS1_BITS + 2).
      // Up to zigzag index 4 only rows and columns 0 and 1 can hold a coefficient: the others are zero.
      const columns = (lastNonzero[block] ?? 0) <= 4 ? 2 : 5;
      for (let c = columns; c < 5; c++) {
        const col = IDCT_2X2_TERMS[c] ?? 0;
        workspace[col] = 0;
        workspace[8 + col] = 0;
      }
      for (let c = 0; c < columns; c++) {
        const col = IDCT_2X2_TERMS[c] ?? 0;
        const top = col === 0 ? (dc[block] ?? 0) * (dequant[0] ?? 0) : (coefficients[base + (index[col] ?? 0)] ?? 0) * (dequant[col] ?? 0);
        const even = top * 32768;
        const odd =
          (coefficients[base + (index[8 + col] ?? 0)] ?? 0) * (dequant[8 + col] ?? 0) * odd1 +
          (coefficients[base + (index[24 + col] ?? 0)] ?? 0) * (dequant[24 + col] ?? 0) * odd3 +
          (coefficients[base + (index[40 + col] ?? 0)] ?? 0) * (dequant[40 + col] ?? 0) * odd5 +
          (coefficients[base + (index[56 + col] ?? 0)] ?? 0) * (dequant[56 + col] ?? 0) * odd7;
        workspace[col] = Math.floor((even + odd + 4096) / 8192);
        workspace[8 + col] = Math.floor((even - odd + 4096) / 8192);
      }
      // Pass 2: the two rows, descaled by CONST_BITS + PASS1_BITS + 3 + 2 and range-limited around 128.
      for (let row = 0; row < 2; row++) {
        const w = row * 8;
        const even = (workspace[w] ?? 0) * 32768;
        const odd = (workspace[w + 1] ?? 0) * odd1 + (workspace[w + 3] ?? 0) * odd3 + (workspace[w + 5] ?? 0) * odd5 + (workspace[w + 7] ?? 0) * odd7;
        const outAt = (by * 2 + row) * stride + bx * 2;
        out[outAt] = Math.floor((even + odd + 524288) / 1048576) + 128;
        out[outAt + 1] = Math.floor((even - odd + 524288) / 1048576) + 128;
      }
    }
  }
  return out;
}

/** A component's 1/8 samples on the width x height grid (bilinear, centres aligned: libjpeg's triangle filter at 2x). */
function upsample(samples: Uint8ClampedArray, component: Component, frame: Frame, width: number, height: number): Uint8ClampedArray {
  const xRatio = frame.hMax / component.h;
  const yRatio = frame.vMax / component.v;
  const out = new Uint8ClampedArray(width * height);
  const lastX = component.dataBlocksWide - 1;
  const lastY = component.dataBlocksHigh - 1;
  if (xRatio === 1 && yRatio === 1) {
    for (let y = 0; y < height; y++) out.set(samples.subarray(y * component.blocksPerLine, y * component.blocksPerLine + width), y * width);
    return out;
  }
  // Taps and weights per column and per row, computed once.
  const taps = (count: number, ratio: number, last: number): { lo: Int32Array; hi: Int32Array; weight: Float64Array } => {
    const lo = new Int32Array(count);
    const hi = new Int32Array(count);
    const weight = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const source = Math.min(last, Math.max(0, (i + 0.5) / ratio - 0.5));
      lo[i] = Math.floor(source);
      hi[i] = Math.min(last, (lo[i] ?? 0) + 1);
      weight[i] = source - (lo[i] ?? 0);
    }
    return { lo, hi, weight };
  };
  const columns = taps(width, xRatio, lastX);
  const rows = taps(height, yRatio, lastY);
  const stride = component.blocksPerLine;
  for (let y = 0; y < height; y++) {
    const top = (rows.lo[y] ?? 0) * stride;
    const bottom = (rows.hi[y] ?? 0) * stride;
    const fy = rows.weight[y] ?? 0;
    const outAt = y * width;
    for (let x = 0; x < width; x++) {
      const x0 = columns.lo[x] ?? 0;
      const x1 = columns.hi[x] ?? 0;
      const fx = columns.weight[x] ?? 0;
      const upper = (samples[top + x0] ?? 0) * (1 - fx) + (samples[top + x1] ?? 0) * fx;
      const lower = (samples[bottom + x0] ?? 0) * (1 - fx) + (samples[bottom + x1] ?? 0) * fx;
      out[outAt + x] = upper * (1 - fy) + lower * fy;
    }
  }
  return out;
}
