import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration, headroom, logTick, logTickShown, si, sig3, tick } from '../../webview/numbers';
import { ema, RunningEma } from '../../webview/smoothing';

test('tooltips show 3 significant digits, small and large values as exponents', () => {
  assert.equal(sig3(0.0006), '6e-4');
  assert.equal(sig3(0.000612345), '6.12e-4');
  assert.equal(sig3(0.41234), '0.412');
  assert.equal(sig3(12.3456), '12.3');
  assert.equal(sig3(1234567), '1.23e6');
  assert.equal(sig3(0), '0');
  assert.equal(sig3(NaN), 'NaN');
  assert.equal(sig3(-Infinity), '-Infinity');
});

test('ticks fit the range: no float noise, exponents beyond 1e±3', () => {
  assert.equal(tick(0.010000000000000002, 0.002), '0.01');
  assert.equal(tick(0.30000000000000004, 0.1), '0.3');
  assert.equal(tick(2.7755575615628914e-17, 0.1), '0');
  assert.equal(tick(0.0004, 0.0002), '4e-4');
  assert.equal(tick(0.00045, 0.00005), '4.5e-4');
  assert.equal(tick(250000, 50000), '2.5e5');
  assert.equal(tick(1500, 500), '1500');
  // One format per axis: its largest tick decides.
  assert.deepEqual(
    [0.00106, 0.00102, 0.00098, 0.00094].map((v) => tick(v, 0.00004, 0.00106)),
    ['0.00106', '0.00102', '0.00098', '0.00094'],
  );
  assert.equal(si(250000), '250k');
  assert.equal(si(1_000_000), '1M');
  assert.equal(si(314), '314');
  assert.equal(logTick(0.0001), '1e-4');
  assert.equal(logTick(0.5), '0.5');
  assert.equal(logTick(20000), '2e4');
});

test('log axes label few ticks: 1-2-5 over two decades, every n-th power of ten over many', () => {
  const shown = (values: number[]) => values.filter((v) => logTickShown(v, values.length, Math.log10(values.at(-1)! / values[0])));
  const decade = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i).flatMap((p) => [1, 2, 3, 4, 5, 6, 7, 8, 9].map((m) => Number((m * 10 ** p).toPrecision(3))));
  assert.deepEqual(shown(decade(-1, 0).filter((v) => v <= 10)), [0.1, 0.2, 0.5, 1, 2, 5]);
  const many = shown(decade(-14, 0));
  assert.ok(many.length <= 6 && many.length >= 3, many.join(' '));
  assert.deepEqual(shown([1, 2, 3, 4]), [1, 2, 3, 4]);
});

test('durations read as a person would say them', () => {
  assert.equal(duration(950), '950 ms');
  assert.equal(duration(12_300), '12.3 s');
  assert.equal(duration(245_000), '4 min 05 s');
  assert.equal(duration(7_380_000), '2 h 03 min');
});

test("smoothing is TensorBoard's debiased EMA; non-finite values pass through", () => {
  const values = [1, 2, 3, NaN, 4];
  const w = 0.6;
  // TensorBoard: last = last * w + (1 - w) * v; smoothed = last / (1 - w ** n).
  let last = 0;
  const expected = [1, 2, 3, 4].map((v, i) => (last = last * w + (1 - w) * v) / (1 - w ** (i + 1)));
  const out = [...ema(values, w)];
  assert.ok(Math.abs(out[0] - 1) < 1e-12, 'debiased: the first point is the first value');
  [0, 1, 2, 4].forEach((j, i) => assert.ok(Math.abs(out[j] - expected[i]) < 1e-12));
  assert.ok(Number.isNaN(out[3]));
  assert.deepEqual([...ema(values, 0)], values);
  // On a log axis zeros do not drag the line down.
  const dead = [...ema([1, 1, 0, 0, 1], 0.9, 0, 5, { positiveOnly: true })];
  assert.deepEqual(
    dead.map((v) => Number(v.toFixed(6))),
    [1, 1, 0, 0, 1],
  );
});

test('a running EMA extended row by row equals the EMA of the whole column', () => {
  const values = Array.from({ length: 500 }, (_, i) => (i % 97 === 0 ? NaN : 1 + Math.sin(i) + (i % 50 === 0 ? 0 : 0.1)));
  const running = new RunningEma(0.8);
  for (let end = 0; end <= values.length; end += 37) running.extend(values, end);
  running.extend(values, values.length);
  const whole = ema(values, 0.8);
  running.out.forEach((v, i) => assert.ok(Object.is(v, whole[i]) || Math.abs(v - whole[i]) < 1e-12, `row ${i}`));
});

test('a linear axis gets 5% of room above its data, none below (a rate that starts at 0 stays at 0)', () => {
  const scale = { min: 0, max: 0.05 };
  headroom(scale);
  assert.equal(scale.min, 0);
  assert.ok(Math.abs(scale.max - 0.0525) < 1e-12);
  const flat = { min: 1, max: 1 };
  headroom(flat);
  assert.deepEqual(flat, { min: 1, max: 1 }, 'a single value is left to Chart.js');
});
