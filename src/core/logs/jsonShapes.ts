// A fast path for JSON-lines logs, read as bytes: most lines of a metrics log are flat objects with
// the same keys in the same order as a line before them. Such a line is scanned once, its numbers
// read in place, and handed on as numbers by position; any line that is not exactly that (a string
// with an escape, a nested value, another key order, a number spelled unusually) goes through
// JSON.parse as text instead. A shape is learnt from a line only when JSON.parse reads that line to
// the same keys, in the same order, with the same numbers: the fast path never reads a line
// differently from the text path.
import { parseJsonLine } from '../runlog/jsonLine';

/** The keys of a record, in order, and which of them hold numbers: records of one shape are handed to the row assembler as numbers by position. */
export interface RecordShape {
  readonly keys: readonly string[];
  readonly numeric: readonly boolean[];
  /** The record this shape was learnt from, as the text path read it (the column resolver reads its keys and values). */
  readonly sample: Record<string, unknown>;
  /** What the format made of the sample (its classification depends on the keys only). */
  readonly role: 'eval' | 'summary' | undefined;
  readonly joinsCurrent: boolean;
}

/** The keys of a flat JSON object, in order, and which of them hold numbers. */
export interface JsonShape extends RecordShape {
  /** The key bytes as the line spells them, one after another; key i is keyBytes[keyStart[i] .. keyStart[i + 1]). */
  readonly keyBytes: Uint8Array;
  readonly keyStart: Int32Array;
}

/** One line read by the fast path: valid until the next line is read (the arrays are reused). */
export interface ShapedRecord {
  shape: RecordShape;
  /** The line's values by key position; only the numeric positions are meaningful. */
  readonly numbers: Float64Array;
  /** 1-based line number. */
  line: number;
}

const MAX_KEYS = 256;
const MAX_SHAPES = 16;
/** Lines scanned well whose shape could not be learnt (duplicated keys, integer-like keys): after this many, learning stops. */
const MAX_FAILED_LEARNS = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;

/** Exact powers of ten (10^22 is the largest a double holds exactly). */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
/** Digits are accumulated exactly while the mantissa stays below this (× 10 + 9 is then below 2^53). */
const MANTISSA_LIMIT = 900719925474099;

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/**
 * Reads the lines of one JSON-lines file whose shape it has seen before. `classify` is the format's
 * own look at a record (role, joinsCurrent), and must depend on the record's keys only.
 */
export class JsonShapeReader {
  private readonly shapes: JsonShape[] = [];
  private lastShape = -1;
  private failedLearns = 0;
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  // Scratch for one line: key spans, values, which values are numbers.
  private keyCount = 0;
  private readonly keyFrom = new Int32Array(MAX_KEYS);
  private readonly keyTo = new Int32Array(MAX_KEYS);
  private readonly isNumber = new Uint8Array(MAX_KEYS);
  private readonly record: ShapedRecord & { shape: JsonShape };

  constructor(private readonly classify: (values: Record<string, unknown>) => { role?: 'eval' | 'summary'; joinsCurrent?: boolean }) {
    this.record = { shape: undefined as unknown as JsonShape, numbers: new Float64Array(MAX_KEYS), line: 0 };
  }

  /** The line as a shaped record, or undefined when it must be read as text. */
  read(data: Uint8Array, start: number, end: number, lineNumber: number): ShapedRecord | undefined {
    const record = this.readObject(data, start, end, lineNumber);
    if (!record) return undefined;
    let i = this.objectEnd;
    while (i < end && isSpace(data[i])) i++;
    return i === end ? record : undefined;
  }

  /** Where the object that readObject read ends (the index after its closing brace). */
  objectEnd = 0;

  /**
   * The flat object that starts at `start` (after optional whitespace) as a shaped record, or undefined
   * when it must be parsed as text; what follows its closing brace (at `objectEnd`) is not looked at.
   */
  readObject(data: Uint8Array, start: number, end: number, lineNumber: number): ShapedRecord | undefined {
    // Most lines have the shape of the line before: compared with it key by key in one pass.
    let index = -1;
    let after = this.lastShape >= 0 ? this.scanAs(data, start, end, this.shapes[this.lastShape]) : -1;
    if (after >= 0) index = this.lastShape;
    else {
      after = this.scan(data, start, end);
      if (after < 0) return undefined;
      index = this.match(data);
      if (index < 0) {
        index = this.learn(data, start, after);
        if (index < 0) return undefined;
      }
    }
    this.objectEnd = after;
    this.lastShape = index;
    const record = this.record;
    record.shape = this.shapes[index];
    record.line = lineNumber;
    return record;
  }

  /** Checks the text at `start` is a flat object of plain keys and simple values; fills the scratch arrays. Returns the index after it, or -1. */
  private scan(data: Uint8Array, start: number, end: number): number {
    let i = start;
    while (i < end && isSpace(data[i])) i++;
    if (i >= end || data[i] !== OPEN) return -1;
    i++;
    const numbers = this.record.numbers;
    const keyFrom = this.keyFrom;
    const keyTo = this.keyTo;
    const isNumber = this.isNumber;
    let count = 0;
    for (;;) {
      while (i < end && isSpace(data[i])) i++;
      if (i >= end || data[i] !== QUOTE || count === MAX_KEYS) return -1;
      const from = ++i;
      // A key without escapes or control characters (any other byte stands for itself).
      for (;;) {
        if (i >= end) return -1;
        const c = data[i];
        if (c === QUOTE) break;
        if (c === BACKSLASH || c < 0x20) return -1;
        i++;
      }
      keyFrom[count] = from;
      keyTo[count] = i;
      i++;
      while (i < end && isSpace(data[i])) i++;
      if (i >= end || data[i] !== COLON) return -1;
      i++;
      while (i < end && isSpace(data[i])) i++;
      if (i >= end) return -1;
      const c = data[i];
      if (c === MINUS || (c >= ZERO && c <= 0x39)) {
        i = this.number(data, i, end, count);
        if (i < 0) return -1;
        isNumber[count] = 1;
      } else if (c === QUOTE) {
        // A string without escapes or control characters: not a number, its text is not needed.
        i++;
        for (;;) {
          if (i >= end) return -1;
          const s = data[i];
          if (s === QUOTE) break;
          if (s === BACKSLASH || s < 0x20) return -1;
          i++;
        }
        i++;
        isNumber[count] = 0;
      } else if (c === 0x4e /* N */) {
        if (!word(data, i, end, NAN)) return -1;
        numbers[count] = NaN;
        isNumber[count] = 1;
        i += 3;
      } else if (c === 0x49 /* I */) {
        if (!word(data, i, end, INFINITY)) return -1;
        numbers[count] = Infinity;
        isNumber[count] = 1;
        i += 8;
      } else if (c === 0x6e /* n */) {
        if (!word(data, i, end, NULL)) return -1;
        isNumber[count] = 0;
        i += 4;
      } else if (c === 0x74 /* t */) {
        if (!word(data, i, end, TRUE)) return -1;
        isNumber[count] = 0;
        i += 4;
      } else if (c === 0x66 /* f */) {
        if (!word(data, i, end, FALSE)) return -1;
        isNumber[count] = 0;
        i += 5;
      } else {
        return -1;
      }
      count++;
      while (i < end && isSpace(data[i])) i++;
      if (i >= end) return -1;
      if (data[i] === COMMA) {
        i++;
        continue;
      }
      if (data[i] !== CLOSE) return -1;
      i++;
      break;
    }
    this.keyCount = count;
    return i;
  }

  /**
   * As scan followed by a match with `shape`, in one pass: the object's keys are compared with the
   * shape's bytes (which hold no quote, backslash or control character) as they are read. Returns the index after it, or -1.
   */
  private scanAs(data: Uint8Array, start: number, end: number, shape: JsonShape): number {
    const bytes = shape.keyBytes;
    const keyStart = shape.keyStart;
    const numeric = shape.numeric;
    const count = shape.keys.length;
    let i = start;
    while (i < end && isSpace(data[i])) i++;
    if (i >= end || data[i] !== OPEN) return -1;
    i++;
    for (let k = 0; k < count; k++) {
      while (i < end && isSpace(data[i])) i++;
      if (i >= end || data[i] !== QUOTE) return -1;
      i++;
      const from = keyStart[k];
      const to = keyStart[k + 1];
      if (i + (to - from) >= end) return -1;
      for (let b = from; b < to; b++, i++) if (data[i] !== bytes[b]) return -1;
      if (data[i] !== QUOTE) return -1;
      i++;
      while (i < end && isSpace(data[i])) i++;
      if (i >= end || data[i] !== COLON) return -1;
      i++;
      while (i < end && isSpace(data[i])) i++;
      if (i >= end) return -1;
      const c = data[i];
      if (numeric[k]) {
        if (c === MINUS || (c >= ZERO && c <= 0x39)) {
          i = this.number(data, i, end, k);
          if (i < 0) return -1;
        } else if (c === 0x4e /* N */ && word(data, i, end, NAN)) {
          this.record.numbers[k] = NaN;
          i += 3;
        } else if (c === 0x49 /* I */ && word(data, i, end, INFINITY)) {
          this.record.numbers[k] = Infinity;
          i += 8;
        } else {
          return -1;
        }
      } else if (c === QUOTE) {
        i++;
        for (;;) {
          if (i >= end) return -1;
          const s = data[i];
          if (s === QUOTE) break;
          if (s === BACKSLASH || s < 0x20) return -1;
          i++;
        }
        i++;
      } else if (c === 0x6e /* n */ && word(data, i, end, NULL)) {
        i += 4;
      } else if (c === 0x74 /* t */ && word(data, i, end, TRUE)) {
        i += 4;
      } else if (c === 0x66 /* f */ && word(data, i, end, FALSE)) {
        i += 5;
      } else {
        return -1;
      }
      while (i < end && isSpace(data[i])) i++;
      if (i >= end) return -1;
      if (data[i] !== (k === count - 1 ? CLOSE : COMMA)) return -1;
      i++;
    }
    return i;
  }

  /** A JSON number (or -Infinity) at `i` into numbers[slot]; returns the index after it, or -1. */
  private number(data: Uint8Array, i: number, end: number, slot: number): number {
    const from = i;
    let negative = false;
    if (data[i] === MINUS) {
      negative = true;
      i++;
      if (i < end && data[i] === 0x49 /* I */) {
        if (!word(data, i, end, INFINITY)) return -1;
        this.record.numbers[slot] = -Infinity;
        return i + 8;
      }
    }
    let mantissa = 0;
    let exact = true;
    let exponent = 0;
    // Integer part: 0, or a digit 1–9 and more digits.
    if (i >= end) return -1;
    let c = data[i];
    if (c === ZERO) {
      i++;
    } else if (c > ZERO && c <= 0x39) {
      do {
        if (mantissa < MANTISSA_LIMIT) mantissa = mantissa * 10 + (c - ZERO);
        else {
          exact = false;
          exponent++;
        }
        i++;
      } while (i < end && (c = data[i]) >= ZERO && c <= 0x39);
    } else {
      return -1;
    }
    if (i < end && data[i] === DOT) {
      i++;
      const digits = i;
      while (i < end && (c = data[i]) >= ZERO && c <= 0x39) {
        if (mantissa < MANTISSA_LIMIT) {
          mantissa = mantissa * 10 + (c - ZERO);
          exponent--;
        } else {
          exact = false;
        }
        i++;
      }
      if (i === digits) return -1;
    }
    if (i < end && (data[i] | 0x20) === 0x65 /* e */) {
      i++;
      let sign = 1;
      if (i < end && (data[i] === PLUS || data[i] === MINUS)) {
        if (data[i] === MINUS) sign = -1;
        i++;
      }
      const digits = i;
      let e = 0;
      while (i < end && (c = data[i]) >= ZERO && c <= 0x39) {
        if (e < 100000) e = e * 10 + (c - ZERO);
        i++;
      }
      if (i === digits) return -1;
      exponent += sign * e;
    }
    let value: number;
    if (exact && exponent >= -22 && exponent <= 22) {
      // Both operands are exact doubles: one correctly rounded operation, as the engine's own parse.
      value = exponent >= 0 ? mantissa * POW10[exponent] : mantissa / POW10[-exponent];
      if (negative) value = -value;
    } else {
      // Too many digits or a large exponent: the engine's own conversion of the text.
      value = Number(String.fromCharCode.apply(null, data.subarray(from, i) as unknown as number[]));
    }
    this.record.numbers[slot] = value;
    return i;
  }

  /** The index of a known shape with the scanned keys and kinds of value, or -1. */
  private match(data: Uint8Array): number {
    const last = this.lastShape;
    if (last >= 0 && this.sameKeys(data, this.shapes[last])) return last;
    for (let s = 0; s < this.shapes.length; s++) if (s !== last && this.sameKeys(data, this.shapes[s])) return s;
    return -1;
  }

  private sameKeys(data: Uint8Array, shape: JsonShape): boolean {
    const count = this.keyCount;
    if (shape.keys.length !== count) return false;
    const bytes = shape.keyBytes;
    const starts = shape.keyStart;
    const numeric = shape.numeric;
    for (let k = 0; k < count; k++) {
      const from = this.keyFrom[k];
      const length = this.keyTo[k] - from;
      const at = starts[k];
      if (starts[k + 1] - at !== length || numeric[k] !== (this.isNumber[k] === 1)) return false;
      for (let b = 0; b < length; b++) if (bytes[at + b] !== data[from + b]) return false;
    }
    return true;
  }

  /** Learns the shape of a line that scanned well when JSON.parse agrees with the scan; its index, or -1. */
  private learn(data: Uint8Array, start: number, end: number): number {
    if (this.shapes.length >= MAX_SHAPES || this.failedLearns >= MAX_FAILED_LEARNS) return -1;
    let values: unknown;
    try {
      values = parseJsonLine(this.decoder.decode(data.subarray(start, end)));
    } catch {
      values = undefined;
    }
    const shape = typeof values === 'object' && values !== null && !Array.isArray(values) ? this.shapeOf(data, values as Record<string, unknown>) : undefined;
    if (!shape) {
      this.failedLearns++;
      return -1;
    }
    this.shapes.push(shape);
    return this.shapes.length - 1;
  }

  /** The scanned line's shape, if JSON.parse read the same keys in the same order, and the same numbers. */
  private shapeOf(data: Uint8Array, values: Record<string, unknown>): JsonShape | undefined {
    const keys = Object.keys(values);
    const count = this.keyCount;
    // Duplicated keys collapse, and integer-like keys come first: either makes the order differ.
    if (keys.length !== count) return undefined;
    let length = 0;
    for (let k = 0; k < count; k++) length += this.keyTo[k] - this.keyFrom[k];
    const keyBytes = new Uint8Array(length);
    const keyStart = new Int32Array(count + 1);
    const numeric: boolean[] = [];
    let at = 0;
    for (let k = 0; k < count; k++) {
      const bytes = data.subarray(this.keyFrom[k], this.keyTo[k]);
      if (this.decoder.decode(bytes) !== keys[k]) return undefined;
      keyStart[k] = at;
      keyBytes.set(bytes, at);
      at += bytes.length;
      const value = values[keys[k]];
      const isNumber = this.isNumber[k] === 1;
      if ((typeof value === 'number') !== isNumber || (isNumber && !Object.is(value, this.record.numbers[k]))) return undefined;
      numeric.push(isNumber);
    }
    keyStart[count] = at;
    const { role, joinsCurrent } = this.classify(values);
    return { keys, keyBytes, keyStart, numeric, sample: values, role, joinsCurrent: joinsCurrent === true };
  }
}

const NAN = [0x4e, 0x61, 0x4e];
const INFINITY = [0x49, 0x6e, 0x66, 0x69, 0x6e, 0x69, 0x74, 0x79];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];

function word(data: Uint8Array, i: number, end: number, bytes: readonly number[]): boolean {
  if (i + bytes.length > end) return false;
  for (let k = 0; k < bytes.length; k++) if (data[i + k] !== bytes[k]) return false;
  return true;
}
