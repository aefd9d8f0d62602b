import type { RunEvent } from '../src/core/protocol';

const n = (value: number) =>
  !Number.isFinite(value) ? String(value) : Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : Number(value.toPrecision(3)).toString();

export const KIND_LABELS: Record<RunEvent['kind'], string> = {
  explosion: 'Explosion',
  nonFinite: 'Non-finite',
  vanishing: 'Vanishing',
  lossSpike: 'Loss spike',
  divergence: 'Divergence',
  guard: 'Guard',
  lrCut: 'LR cut',
};

/** The label a marker and a table row show for an event. */
export function eventLabel(event: RunEvent): string {
  return event.kind === 'guard' ? `Guard: ${event.action}` : KIND_LABELS[event.kind];
}

/** The values of an event, in words. */
export function eventDetails(event: RunEvent): string {
  switch (event.kind) {
    case 'explosion':
      return `‖g‖ ${n(event.gradNorm)} = ${n(event.ratio)}× running level ${n(event.level)}`;
    case 'nonFinite':
      return `${event.fields.join(', ')}${event.layers ? ` in ${event.layers.join(', ')}` : ''}: ${[event.loss !== undefined ? `loss ${n(event.loss)}` : '', event.gradNorm !== undefined ? `‖g‖ ${n(event.gradNorm)}` : ''].filter(Boolean).join(', ')}${event.hint === 'lossScalerSkip' ? ' (the fp16 loss scaler skipped this step)' : ''}`;
    case 'vanishing':
      return `${event.layer}: ‖g‖ ${n(event.gradNorm)} (${n(event.ratioToMax)}× the largest layer)`;
    case 'lossSpike':
      return `loss ${n(event.loss)} = ${n(event.ratio)}× running level ${n(event.level)}`;
    case 'divergence':
      return `loss (running median) ${n(event.loss)} = ${n(event.ratio)}× its lowest ${n(event.best)} (${event.reason})`;
    case 'guard':
      return `${event.action} after ${event.cause}${event.lrMultiplier !== undefined ? `, LR ×${n(event.lrMultiplier)}` : ''}`;
    case 'lrCut':
      return `LR ${n(event.previousLr)} → ${n(event.lr)}`;
  }
}
