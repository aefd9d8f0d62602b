// The TensorBoard Event decoder as it was written over protobuf.js's Reader: the reference the in-place decoder (src/core/logs/tensorboard.ts) is checked against.
import { Reader } from 'protobufjs/minimal';
import type { TbScalar } from '../../src/core/logs/tensorboard';

const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_HALF = 19;

/** The scalars of one Event proto (none for file-version, graph and other events). */
export function referenceDecodeScalars(data: Uint8Array): TbScalar[] {
  const scalars: TbScalar[] = [];
  forEachScalar(data, (tag, step, value, wallTime) => scalars.push({ tag, step, value, wallTime }));
  return scalars;
}

/** Visits the scalars of one Event proto without keeping objects around (for large logs). */
function forEachScalar(data: Uint8Array, visit: (tag: string, step: number, value: number, wallTime: number) => void): void {
  const reader = Reader.create(data);
  let wallTime = 0;
  let step = 0;
  const values: { tag: string; value: number }[] = [];
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    switch (key >>> 3) {
      case 1:
        wallTime = reader.double();
        break;
      case 2:
        step = Number(reader.int64());
        break;
      case 5: {
        const summary = Reader.create(reader.bytes());
        while (summary.pos < summary.len) {
          const field = summary.uint32();
          if (field >>> 3 === 1) {
            const value = decodeValue(summary.bytes());
            if (value) values.push(value);
          } else {
            summary.skipType(field & 7);
          }
        }
        break;
      }
      default:
        reader.skipType(key & 7);
    }
  }
  for (const v of values) visit(v.tag, step, v.value, wallTime);
}

function decodeValue(data: Uint8Array): { tag: string; value: number } | undefined {
  const reader = Reader.create(data);
  let tag = '';
  let value: number | undefined;
  let plugin: string | undefined;
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    switch (key >>> 3) {
      case 1:
        tag = reader.string();
        break;
      case 2:
        value = reader.float();
        break;
      case 8:
        value = decodeTensorScalar(reader.bytes());
        break;
      case 9:
        plugin = pluginName(reader.bytes());
        break;
      default:
        reader.skipType(key & 7);
    }
  }
  // A tensor written by another plugin (histograms, PR curves, text) is not a scalar, whatever its first element.
  if (plugin !== undefined && plugin !== '' && plugin !== 'scalars') return undefined;
  return value === undefined ? undefined : { tag, value };
}

/** SummaryMetadata.plugin_data.plugin_name, or undefined. */
function pluginName(metadata: Uint8Array): string | undefined {
  const reader = Reader.create(metadata);
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    if (key >>> 3 !== 1) {
      reader.skipType(key & 7);
      continue;
    }
    const data = Reader.create(reader.bytes());
    while (data.pos < data.len) {
      const field = data.uint32();
      if (field >>> 3 === 1) return data.string();
      data.skipType(field & 7);
    }
  }
  return undefined;
}

/** Number of elements a TensorShapeProto describes (1 for a scalar, which has no dimensions). */
function shapeElements(shape: Uint8Array): number {
  const reader = Reader.create(shape);
  let elements = 1;
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    if (key >>> 3 !== 2) {
      reader.skipType(key & 7);
      continue;
    }
    const dim = Reader.create(reader.bytes());
    let size = 1;
    while (dim.pos < dim.len) {
      const field = dim.uint32();
      if (field >>> 3 === 1) size = Number(dim.int64());
      else dim.skipType(field & 7);
    }
    elements *= size;
  }
  return elements;
}

/** A one-element float, double or half tensor, from its repeated field or its raw content; undefined for any other shape. */
function decodeTensorScalar(data: Uint8Array): number | undefined {
  const reader = Reader.create(data);
  let dtype = 0;
  let content: Uint8Array | undefined;
  let value: number | undefined;
  let elements = 1;
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 1) dtype = reader.int32();
    else if (field === 2) elements = shapeElements(reader.bytes());
    else if (field === 4) content = reader.bytes();
    else if ((field === 5 || field === 6) && wire === 2) {
      const packed = Reader.create(reader.bytes());
      value = field === 5 ? packed.float() : packed.double();
    } else if (field === 5 && wire === 5) value = reader.float();
    else if (field === 6 && wire === 1) value = reader.double();
    else reader.skipType(wire);
  }
  if (elements !== 1) return undefined;
  if (value !== undefined) return value;
  if (!content || content.length === 0) return undefined;
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  if (dtype === DT_FLOAT && content.length >= 4) return view.getFloat32(0, true);
  if (dtype === DT_DOUBLE && content.length >= 8) return view.getFloat64(0, true);
  if (dtype === DT_HALF && content.length >= 2) return halfToFloat(view.getUint16(0, true));
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
