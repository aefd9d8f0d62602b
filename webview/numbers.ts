// Number formatting for the charts: tooltips to 3 significant digits, axis ticks that fit the range
// (plain, SI for step counts, or an exponent), never a float's binary noise like 0.0100000000000000.

/** A value to 3 significant digits: 0.000612 → "6.12e-4", 0.0006 → "6e-4", 1234567 → "1.23e6", 0.412 → "0.412". */
export function sig3(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return exponent(value, 3);
  return String(Number(value.toPrecision(3)));
}

/** `value` as mantissa e exponent with at most `digits` significant digits and no trailing zeros: "2.5e-4". */
function exponent(value: number, digits: number): string {
  const [mantissa, power] = value.toExponential(digits - 1).split('e');
  return `${String(Number(mantissa))}e${Number(power)}`;
}

/**
 * A tick of an axis whose ticks are `step` apart and whose largest tick is `largest` (default: this
 * one): as many decimals as the step needs, exponents on axes of very small or large values (1e-4,
 * 2.5e6), and 0 exactly at zero.
 */
export function tick(value: number, step: number, largest = Math.abs(value)): string {
  if (!Number.isFinite(value)) return String(value);
  // A tick within a hundredth of a step of zero is zero (ticks are sums of floats).
  if (Math.abs(value) < Math.abs(step) * 1e-2 || value === 0) return '0';
  const abs = Math.abs(value);
  // One format for the whole axis, chosen by its largest tick: 0.00102 and 0.00098, not 9.8e-4 beside them.
  if (largest >= 1e5 || largest < 1e-3) return exponent(value, significantFor(value, step));
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(Math.abs(step) || abs) + 1e-9)));
  return String(Number(value.toFixed(decimals)));
}

/** Significant digits needed to tell ticks `step` apart near `value` (1 to 4). */
function significantFor(value: number, step: number): number {
  if (!step) return 3;
  const digits = Math.floor(Math.log10(Math.abs(value))) - Math.floor(Math.log10(Math.abs(step))) + 1;
  return Math.max(1, Math.min(4, digits));
}

/** A step count with an SI suffix when large: 950, 12k, 1.5M. */
export function si(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${String(Number((value / 1e6).toPrecision(3)))}M`;
  if (abs >= 1e4) return `${String(Number((value / 1e3).toPrecision(3)))}k`;
  return String(Math.round(value * 100) / 100);
}

/**
 * Which ticks of a log axis get a label, so that labels never crowd: all when there are few, the
 * 1-2-5 ones over a couple of decades, powers of ten beyond (every n-th of them over many decades).
 */
export function logTickShown(value: number, tickCount: number, decades: number): boolean {
  if (tickCount <= 6) return true;
  const mantissa = Number((value / 10 ** Math.floor(Math.log10(value) + 1e-9)).toPrecision(3));
  if (decades <= 2) return mantissa === 1 || mantissa === 2 || mantissa === 5;
  if (mantissa !== 1) return false;
  // Over many decades, every n-th power of ten, so that about five labels remain.
  const every = Math.max(1, Math.ceil(decades / 5));
  return Math.round(Math.log10(value)) % every === 0;
}

/** A log-axis tick: exponent form beyond 1e±3, else plain. */
export function logTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e4 || abs < 1e-3) return exponent(value, 2);
  return String(Number(value.toPrecision(3)));
}

/** A duration: 950 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/**
 * 5% of room above a linear axis's data (below stays where the data ends: Chart.js's `grace` would
 * push a learning rate that starts at 0 below zero), so a constant series, such as a constant
 * learning rate, is not drawn on the chart's top edge.
 */
export function headroom(scale: { min: number; max: number }): void {
  if (scale.max > scale.min) scale.max += (scale.max - scale.min) * 0.05;
}
