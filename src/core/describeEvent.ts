import type { RunEvent } from './protocol';

/** One line per event, as the CLI prints it and Problems entries for logs say it. */
export function describeEvent(event: RunEvent): string {
  const n = (value: number) => (Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : value.toPrecision(3));
  switch (event.kind) {
    case 'explosion': return `step ${event.step}: gradient explosion: ‖g‖ ${n(event.gradNorm)} is ${n(event.ratio)}× its running level ${n(event.level)}`;
    case 'nonFinite': return `step ${event.step}: non-finite ${event.fields.join(', ')}${event.layers ? ` (${event.layers.join(', ')})` : ''}`;
    case 'vanishing': return `step ${event.step}: vanishing gradient in ${event.layer}: ‖g‖ ${n(event.gradNorm)}`;
    case 'lossSpike': return `step ${event.step}: ${event.series === 'validation' ? 'validation ' : ''}loss spike: ${n(event.loss)} is ${n(event.ratio)}× its running level`;
    case 'divergence': return `step ${event.step}: loss diverging (${event.reason}): ${n(event.loss)} vs best ${n(event.best)}`;
    case 'guard': return `step ${event.step}: guard ${event.action} after ${event.cause}${event.lrMultiplier !== undefined ? ` (LR ×${n(event.lrMultiplier)})` : ''}`;
    case 'lrCut': return `step ${event.step}: learning rate cut ${n(event.previousLr)} → ${n(event.lr)}`;
  }
}

