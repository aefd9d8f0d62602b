// TensorBoard event files (events.out.tfevents.*): TFRecord framing with masked CRC32C checksums
// around Event protos. Scalars may be a Summary.Value simple_value (PyTorch's SummaryWriter, the
// Hugging Face Trainer, Lightning) or a one-element tensor (TF 2's tf.summary.scalar).
import { crc32c, crc32cOf } from './crc32c';
import { isLfsPointer, LFS_POINTER } from './lfs';

export interface TbScalar {
  tag: string;
  step: number;
  wallTime: number;
  value: number;
}

export interface TbProblem {
  offset: number;
  message: string;
  /** Nothing after this offset can be read (a record length that fails its checksum). */
  fatal?: true;
}

/** TFRecord's checksum: CRC32C, rotated and offset so that a CRC of CRCs does not collide. */
export function maskedCrc32c(data: Uint8Array): number {
  return mask(crc32c(data));
}

function mask(crc: number): number {
  crc >>>= 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/**
 * Reads the complete records of a buffer from `offset` on. A record with a bad checksum is reported
 * with its offset and skipped (its length is trusted when its own checksum holds; otherwise the rest
 * of the file cannot be framed and reading stops there). Returns where the next record would start:
 * a record cut off at the end (a file still being written) is left for the next read.
 */
export function readRecords(buffer: Uint8Array, offset: number, onRecord: (data: Uint8Array, offset: number) => void, onProblem: (problem: TbProblem) => void): number {
  return readRecordSpans(buffer, offset, (start, end, at) => onRecord(buffer.subarray(start, end), at), onProblem);
}

/** As readRecords, without a view per record: `onRecord` gets where the record's data starts and ends in `buffer`. */
export function readRecordSpans(buffer: Uint8Array, offset: number, onRecord: (start: number, end: number, offset: number) => void, onProblem: (problem: TbProblem) => void): number {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let at = offset;
  while (at + 12 <= buffer.length) {
    // A uint64 little-endian length (a double holds it exactly below 2^53; a larger one is cut off anyway).
    const length = view.getUint32(at, true) + view.getUint32(at + 4, true) * 4294967296;
    if (view.getUint32(at + 8, true) !== mask(crc32cOf(buffer, at, at + 8))) {
      // A Git LFS pointer in place of the file is no damage: say what it is (the sources leave these out; a followed folder may gain one).
      onProblem({ offset: at, message: isLfsPointer(buffer, at) ? LFS_POINTER : 'the record length checksum does not match; the rest of the file is skipped', fatal: true });
      return buffer.length;
    }
    const end = at + 12 + length + 4;
    if (end > buffer.length) break; // cut off: wait for the rest
    if (view.getUint32(at + 12 + length, true) !== mask(crc32cOf(buffer, at + 12, at + 12 + length))) onProblem({ offset: at, message: 'the record data checksum does not match; record skipped' });
    else onRecord(at + 12, at + 12 + length, at);
    at = end;
  }
  return at;
}

const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_HALF = 19;

/** The scalars of one Event proto (none for file-version, graph and other events). */
export function decodeScalars(data: Uint8Array): TbScalar[] {
  const scalars: TbScalar[] = [];
  forEachScalar(data, (tag, step, value, wallTime) => scalars.push({ tag, step, value, wallTime }));
  return scalars;
}

/** Visits the scalars of one Event proto without keeping objects around (for large logs). */
export function forEachScalar(data: Uint8Array, visit: (tag: string, step: number, value: number, wallTime: number) => void): void {
  forEachScalarIn(data, 0, data.length, visit);
}

/**
 * Reads protobuf wire format in place: one cursor over a whole file's buffer, no object per message
 * (a nested message is read up to its end). Throws on a value that runs past its message's end.
 */
class ProtoCursor {
  buffer: Uint8Array = new Uint8Array(0);
  view = new DataView(this.buffer.buffer);
  pos = 0;
  /** Tags as strings, by their bytes: a file names the same few tags in every event. */
  private readonly tags = new Map<number, { bytes: Uint8Array; tag: string }[]>();
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  reset(buffer: Uint8Array, pos: number): void {
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
    this.pos = pos;
  }

  /** A varint's low 32 bits, unsigned (a key, a length, an int32 before `| 0`). */
  uint32(end: number): number {
    const buffer = this.buffer;
    let pos = this.pos;
    if (pos >= end) throw outOfRange(pos, end);
    let byte = buffer[pos++];
    if (byte < 128) {
      this.pos = pos;
      return byte;
    }
    let value = byte & 127;
    for (let shift = 7; shift < 70; shift += 7) {
      if (pos >= end) throw outOfRange(pos, end);
      byte = buffer[pos++];
      if (shift < 32) value |= (byte & 127) << shift;
      if (byte < 128) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw new Error('invalid varint encoding');
  }

  /** A varint as a signed 64-bit integer, as a number (exact below 2^53). */
  int64(end: number): number {
    const buffer = this.buffer;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift >= 70) throw new Error('invalid varint encoding');
      if (pos >= end) throw outOfRange(pos, end);
      const byte = buffer[pos++];
      const bits = byte & 127;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (byte < 128) break;
    }
    this.pos = pos;
    lo >>>= 0;
    hi >>>= 0;
    if (hi >>> 31) {
      // Two's complement, as protobuf.js's LongBits.toNumber reads it.
      const negLo = (~lo + 1) >>> 0;
      let negHi = ~hi >>> 0;
      if (!negLo) negHi = (negHi + 1) >>> 0;
      return -(negLo + negHi * 4294967296);
    }
    return lo + hi * 4294967296;
  }

  float(end: number): number {
    if (this.pos + 4 > end) throw outOfRange(this.pos, end);
    const value = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return value;
  }

  double(end: number): number {
    if (this.pos + 8 > end) throw outOfRange(this.pos, end);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A length-delimited field: moves past it and returns where it ends (it starts at `pos` before the call's return). */
  delimited(end: number): number {
    const length = this.uint32(end);
    const to = this.pos + length;
    if (to > end) throw outOfRange(this.pos, end);
    return to;
  }

  string(end: number): string {
    const to = this.delimited(end);
    const from = this.pos;
    this.pos = to;
    return this.decoder.decode(this.buffer.subarray(from, to));
  }

  /** A tag: the same string object for the same bytes (no decoding, and a property key the engine has seen). */
  tag(end: number): string {
    const to = this.delimited(end);
    const from = this.pos;
    this.pos = to;
    const buffer = this.buffer;
    let hash = to - from;
    for (let i = from; i < to; i++) hash = (Math.imul(hash, 31) + buffer[i]) | 0;
    const candidates = this.tags.get(hash);
    if (candidates) {
      for (const known of candidates) if (sameBytes(known.bytes, buffer, from, to)) return known.tag;
    }
    const tag = this.decoder.decode(buffer.subarray(from, to));
    if (this.tags.size < 4096) {
      if (candidates) candidates.push({ bytes: buffer.slice(from, to), tag });
      else this.tags.set(hash, [{ bytes: buffer.slice(from, to), tag }]);
    }
    return tag;
  }

  skip(wire: number, end: number, depth = 0): void {
    switch (wire) {
      case 0:
        for (;;) {
          if (this.pos >= end) throw outOfRange(this.pos, end);
          if (this.buffer[this.pos++] < 128) break;
        }
        break;
      case 1:
        this.advance(8, end);
        break;
      case 2:
        this.pos = this.delimited(end);
        break;
      case 3:
        if (depth > 100) throw new Error('maximum nesting depth exceeded');
        while ((wire = this.uint32(end) & 7) !== 4) this.skip(wire, end, depth + 1);
        break;
      case 5:
        this.advance(4, end);
        break;
      default:
        throw new Error(`invalid wire type ${wire} at offset ${this.pos}`);
    }
  }

  private advance(count: number, end: number): void {
    if (this.pos + count > end) throw outOfRange(this.pos, end);
    this.pos += count;
  }
}

function outOfRange(pos: number, end: number): RangeError {
  return new RangeError(`index out of range: ${pos} + 1 > ${end}`);
}

function sameBytes(known: Uint8Array, buffer: Uint8Array, from: number, to: number): boolean {
  if (known.length !== to - from) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== buffer[from + i]) return false;
  return true;
}

const cursor = new ProtoCursor();
/** The scalars of the event being read (tag, value pairs), before its step is known. */
const pendingTags: string[] = [];
const pendingValues: number[] = [];

/** As forEachScalar, for the Event proto at buffer[start, end) (a record of a whole file's buffer). */
export function forEachScalarIn(buffer: Uint8Array, start: number, end: number, visit: (tag: string, step: number, value: number, wallTime: number) => void): void {
  const c = cursor;
  c.reset(buffer, start);
  let wallTime = 0;
  let step = 0;
  let count = 0;
  while (c.pos < end) {
    const key = c.uint32(end);
    switch (key >>> 3) {
      case 1:
        wallTime = c.double(end);
        break;
      case 2:
        step = c.int64(end);
        break;
      case 5: {
        const summaryEnd = c.delimited(end);
        while (c.pos < summaryEnd) {
          const field = c.uint32(summaryEnd);
          if (field >>> 3 === 1) {
            const valueEnd = c.delimited(summaryEnd);
            if (decodeValue(c, valueEnd)) {
              pendingTags[count] = valueTag;
              pendingValues[count] = valueNumber;
              count++;
            }
            c.pos = valueEnd;
          } else {
            c.skip(field & 7, summaryEnd);
          }
        }
        break;
      }
      default:
        c.skip(key & 7, end);
    }
  }
  for (let i = 0; i < count; i++) visit(pendingTags[i], step, pendingValues[i], wallTime);
}

/** What decodeValue read (no object per value). */
let valueTag = '';
let valueNumber = 0;

/** A Summary.Value ending at `end`: whether it is a scalar (then in valueTag, valueNumber). */
function decodeValue(c: ProtoCursor, end: number): boolean {
  let tag = '';
  let value: number | undefined;
  let plugin: string | undefined;
  /** What a value that is not a scalar holds, by its field (Summary.Value's oneof), for the count of other values. */
  let other: string | undefined;
  while (c.pos < end) {
    const key = c.uint32(end);
    switch (key >>> 3) {
      case 1:
        tag = c.tag(end);
        break;
      case 2:
        value = c.float(end);
        break;
      case 8: {
        const to = c.delimited(end);
        value = decodeTensorScalar(c, to);
        if (value === undefined) other = 'tensors';
        c.pos = to;
        break;
      }
      case 9: {
        const to = c.delimited(end);
        plugin = pluginName(c, to);
        c.pos = to;
        break;
      }
      default:
        other = OTHER_VALUE_FIELDS[key >>> 3] ?? other;
        c.skip(key & 7, end);
    }
  }
  // A tensor written by another plugin (histograms, PR curves, text) is not a scalar, whatever its first element.
  if (plugin !== undefined && plugin !== '' && plugin !== 'scalars') other = plugin;
  else if (value !== undefined) {
    valueTag = tag;
    valueNumber = value;
    return true;
  }
  if (other !== undefined) otherValues.set(other, (otherValues.get(other) ?? 0) + 1);
  return false;
}

/** Summary.Value fields that hold something other than a scalar (TF1 summaries). */
const OTHER_VALUE_FIELDS: Record<number, string> = { 3: 'histograms', 4: 'images', 5: 'histograms', 6: 'audio' };
/** Values read that are not scalars, by what they hold, since the last takeOtherValues(). */
const otherValues = new Map<string, number>();

/**
 * The values read since the last call that are not scalars (histograms, images, text, another
 * plugin's tensors), counted by kind: what to tell a user whose event files hold no scalars.
 */
export function takeOtherValues(): Map<string, number> {
  const taken = new Map(otherValues);
  otherValues.clear();
  return taken;
}

/** SummaryMetadata.plugin_data.plugin_name, or undefined. */
function pluginName(c: ProtoCursor, end: number): string | undefined {
  while (c.pos < end) {
    const key = c.uint32(end);
    if (key >>> 3 !== 1) {
      c.skip(key & 7, end);
      continue;
    }
    const dataEnd = c.delimited(end);
    while (c.pos < dataEnd) {
      const field = c.uint32(dataEnd);
      if (field >>> 3 === 1) return c.string(dataEnd);
      c.skip(field & 7, dataEnd);
    }
  }
  return undefined;
}

/** Number of elements a TensorShapeProto describes (1 for a scalar, which has no dimensions). */
function shapeElements(c: ProtoCursor, end: number): number {
  let elements = 1;
  while (c.pos < end) {
    const key = c.uint32(end);
    if (key >>> 3 !== 2) {
      c.skip(key & 7, end);
      continue;
    }
    const dimEnd = c.delimited(end);
    let size = 1;
    while (c.pos < dimEnd) {
      const field = c.uint32(dimEnd);
      if (field >>> 3 === 1) size = c.int64(dimEnd);
      else c.skip(field & 7, dimEnd);
    }
    elements *= size;
  }
  return elements;
}

/** A one-element float, double or half tensor, from its repeated field or its raw content; undefined for any other shape. */
function decodeTensorScalar(c: ProtoCursor, end: number): number | undefined {
  let dtype = 0;
  let contentFrom = -1;
  let contentTo = -1;
  let value: number | undefined;
  let elements = 1;
  while (c.pos < end) {
    const key = c.uint32(end);
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 1) dtype = c.uint32(end) | 0;
    else if (field === 2) {
      const to = c.delimited(end);
      elements = shapeElements(c, to);
      c.pos = to;
    } else if (field === 4) {
      contentTo = c.delimited(end);
      contentFrom = c.pos;
      c.pos = contentTo;
    } else if ((field === 5 || field === 6) && wire === 2) {
      const to = c.delimited(end);
      value = field === 5 ? c.float(to) : c.double(to);
      c.pos = to;
    } else if (field === 5 && wire === 5) value = c.float(end);
    else if (field === 6 && wire === 1) value = c.double(end);
    else c.skip(wire, end);
  }
  if (elements !== 1) return undefined;
  if (value !== undefined) return value;
  const length = contentTo - contentFrom;
  if (contentFrom < 0 || length === 0) return undefined;
  const view = c.view;
  if (dtype === DT_FLOAT && length >= 4) return view.getFloat32(contentFrom, true);
  if (dtype === DT_DOUBLE && length >= 8) return view.getFloat64(contentFrom, true);
  if (dtype === DT_HALF && length >= 2) return halfToFloat(view.getUint16(contentFrom, true));
  return undefined;
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
