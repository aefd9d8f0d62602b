import type { SpikeGrade } from './events';
import type { RunEvent } from '../protocol';

/** Why a spike has its severity, in words (see SpikeGrade). */
const GRADE_TEXT: Record<SpikeGrade, string> = {
  transient: "info: absorbed within a few rows, within the run's own range",
  pending: 'info for now: a warning if the run does not absorb it within a few rows',
  beyondRange: 'far beyond anything this run had before',
  lrRose: 'right after the learning rate rose',
  repeated: 'another spike came before this one was absorbed',
  notAbsorbed: 'the run did not absorb it',
};

/** One line per event, as the CLI prints it and Problems entries for logs say it. */
export function describeEvent(event: RunEvent): string {
  const n = (value: number | undefined) => (value === undefined ? '—' : Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : value.toPrecision(3));
  const why = (grade: SpikeGrade, upgradedAt: number | undefined) => ` (${GRADE_TEXT[grade]}${upgradedAt !== undefined ? `, seen at step ${upgradedAt}` : ''})`;
  switch (event.kind) {
    case 'explosion':
      return `step ${event.step}: gradient explosion: ‖g‖ ${n(event.gradNorm)} is ${n(event.ratio)}× its running level ${n(event.level)}${why(event.grade, event.upgradedAt)}`;
    case 'nonFinite': {
      // The value itself where the event has it: NaN (0/0, a poisoned weight) reads differently from Infinity (an overflow).
      const value = (field: string) => (field === 'loss' ? event.loss : field === 'gradNorm' ? event.gradNorm : field === 'validationLoss' ? event.validationLoss : undefined);
      const fields = event.fields.map((field) => {
        const v = value(field);
        return v !== undefined && !Number.isFinite(v) ? `${field} ${v}` : field;
      });
      return `step ${event.step}: non-finite ${fields.join(', ')}${event.layers ? ` (${event.layers.join(', ')})` : ''}${event.streak ? ` (${event.streak} rows in a row${event.streak === 3 ? '; listed again at 10, 100, 1000… in a row' : ''})` : ''}${event.hint === 'lossScalerSkip' ? ' (the learning rate did not advance: the fp16 loss scaler skipped this step)' : ''}`;
    }
    case 'vanishing':
      return `step ${event.step}: vanishing gradient in ${event.layer}: ‖g‖ ${n(event.gradNorm)}`;
    case 'lossSpike':
      return `step ${event.step}: ${event.series === 'validation' ? 'validation ' : ''}loss spike: ${n(event.loss)} is ${n(event.ratio)}× its running level${why(event.grade, event.upgradedAt)}`;
    case 'divergence':
      return `step ${event.step}: loss diverging (${event.reason}): ${n(event.loss)} vs best ${n(event.best)}`;
    case 'guard':
      return `step ${event.step}: guard ${event.action} after ${event.cause}${event.lrMultiplier !== undefined ? ` (LR ×${n(event.lrMultiplier)})` : ''}`;
    case 'lrCut':
      return `step ${event.step}: learning rate cut ${n(event.previousLr)} → ${n(event.lr)}`;
  }
}
