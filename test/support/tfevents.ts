// A reference writer for TensorBoard event files, for tests: TFRecord framing with masked CRC32C
// around Event protos, scalars as simple_value or as a one-element tensor.
import { Writer } from 'protobufjs/minimal';
import { maskedCrc32c } from '../../src/core/logs/tensorboard';

export type Encoding = 'simple' | 'floatVal' | 'tensorContent';

export function eventBytes(step: number, scalars: Record<string, number>, encoding: Encoding = 'simple', wallTime = 1_700_000_000 + step): Uint8Array {
  const summary = Writer.create();
  for (const [tag, value] of Object.entries(scalars)) {
    const v = Writer.create()
      .uint32((1 << 3) | 2)
      .string(tag);
    if (encoding === 'simple') v.uint32((2 << 3) | 5).float(value);
    else {
      const tensor = Writer.create()
        .uint32((1 << 3) | 0)
        .int32(1); // DT_FLOAT
      if (encoding === 'floatVal')
        tensor
          .uint32((5 << 3) | 2)
          .fork()
          .float(value)
          .ldelim();
      else {
        const bytes = new Uint8Array(4);
        new DataView(bytes.buffer).setFloat32(0, value, true);
        tensor.uint32((4 << 3) | 2).bytes(bytes);
      }
      v.uint32((8 << 3) | 2).bytes(tensor.finish());
    }
    summary.uint32((1 << 3) | 2).bytes(v.finish());
  }
  return Writer.create()
    .uint32((1 << 3) | 1)
    .double(wallTime)
    .uint32((2 << 3) | 0)
    .int64(step)
    .uint32((5 << 3) | 2)
    .bytes(summary.finish())
    .finish();
}

/** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
export function record(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * An Event whose one value is a 3×3 float64 tensor (first element -0.5) of the histograms plugin, as
 * add_histogram writes in TF2; `withPlugin: false` leaves out the plugin's name (a bare tensor).
 */
export function histogramEventBytes(step: number, tag = 'weights', withPlugin = true): Uint8Array {
  const shape = Writer.create();
  for (const size of [3, 3])
    shape.uint32((2 << 3) | 2).bytes(
      Writer.create()
        .uint32((1 << 3) | 0)
        .int64(size)
        .finish(),
    );
  const content = new Uint8Array(9 * 8);
  new DataView(content.buffer).setFloat64(0, -0.5, true);
  const tensor = Writer.create()
    .uint32((1 << 3) | 0)
    .int32(2)
    .uint32((2 << 3) | 2)
    .bytes(shape.finish())
    .uint32((4 << 3) | 2)
    .bytes(content)
    .finish();
  const plugin = Writer.create()
    .uint32((1 << 3) | 2)
    .bytes(
      Writer.create()
        .uint32((1 << 3) | 2)
        .string('histograms')
        .finish(),
    )
    .finish();
  const value = Writer.create()
    .uint32((1 << 3) | 2)
    .string(tag)
    .uint32((8 << 3) | 2)
    .bytes(tensor);
  if (withPlugin) value.uint32((9 << 3) | 2).bytes(plugin);
  const summary = Writer.create()
    .uint32((1 << 3) | 2)
    .bytes(value.finish())
    .finish();
  return Writer.create()
    .uint32((2 << 3) | 0)
    .int64(step)
    .uint32((5 << 3) | 2)
    .bytes(summary)
    .finish();
}
