import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { RunSummary, StepBatch, TrainerMessage } from '../core/protocol';
import { describeEvent } from '../core/detect/describe';
import { stringifyStrictJsonLine } from '../node/runlog';

export { describeEvent };

export interface TrainReporter {
  message(message: TrainerMessage): void;
  close(): void;
}

export function describeSummary(summary: RunSummary, runDir: string | undefined): string {
  const events =
    Object.entries(summary.eventCounts)
      .map(([kind, count]) => `${count} ${kind}`)
      .join(', ') || 'no events';
  return `${summary.status} after ${summary.steps} steps in ${(summary.durationMs / 1000).toFixed(1)} s on ${summary.backend}: final loss ${summary.finalLoss.toPrecision(4)}, ${events}${summary.message ? ` (${summary.message})` : ''}${runDir ? `\nrun log: ${runDir}` : ''}`;
}

/** NDJSON: one object per step, event and epoch, then a summary. */
export class JsonReporter implements TrainReporter {
  constructor(private readonly write: (line: string) => void) {}

  message(message: TrainerMessage): void {
    switch (message.type) {
      case 'started': {
        const { plannedLr: _planned, ...rest } = message;
        this.write(stringifyStrictJsonLine(rest));
        break;
      }
      case 'steps':
        forEachRow(message.batch, (row) => this.write(stringifyStrictJsonLine({ type: 'step', ...row })));
        break;
      case 'event':
        this.write(stringifyStrictJsonLine({ type: 'event', ...message.event }));
        break;
      case 'epoch':
        this.write(stringifyStrictJsonLine(message));
        break;
      case 'finished':
        this.write(stringifyStrictJsonLine({ type: 'summary', ...message.summary }));
        break;
      case 'failed':
        this.write(stringifyStrictJsonLine(message));
        break;
      case 'log':
        this.write(stringifyStrictJsonLine(message));
        break;
    }
  }

  close(): void {}
}

/** Progress bar on a terminal (events printed above it), plain lines otherwise. */
export class TextReporter implements TrainReporter {
  private multi: MultiBar | undefined;
  private bar: SingleBar | undefined;
  private runDir: string | undefined;

  constructor(
    private readonly tty: boolean,
    private readonly print: (line: string) => void,
  ) {}

  message(message: TrainerMessage): void {
    switch (message.type) {
      case 'started':
        this.runDir = message.runDir;
        this.line(`training on ${message.backend}: ${message.parameterCount} parameters, ${message.totalSteps} steps`);
        if (this.tty) {
          this.multi = new MultiBar({ format: ' {bar} {value}/{total} steps | loss {loss} | ‖g‖ {gradNorm} | lr {lr}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
          this.bar = this.multi.create(message.totalSteps, 0, { loss: '-', gradNorm: '-', lr: '-' });
        }
        break;
      case 'steps': {
        const last = message.batch.step.length - 1;
        if (last >= 0)
          this.bar?.update(message.batch.step[last] + 1, {
            loss: message.batch.loss[last].toPrecision(3),
            gradNorm: message.batch.gradNorm[last].toPrecision(3),
            lr: message.batch.lr[last].toExponential(2),
          });
        break;
      }
      case 'event':
        this.line(describeEvent(message.event));
        break;
      case 'epoch':
        this.line(
          `epoch ${message.epoch + 1}: train loss ${message.trainLoss.toPrecision(4)}${message.validationLoss !== undefined ? `, validation loss ${message.validationLoss.toPrecision(4)}` : ''}${message.validationAccuracy !== undefined ? `, accuracy ${(100 * message.validationAccuracy).toFixed(1)}%` : ''}`,
        );
        break;
      case 'log':
        this.line(`${message.level}: ${message.message}`);
        break;
      case 'finished':
        this.close();
        this.print(describeSummary(message.summary, this.runDir));
        break;
      case 'failed':
        this.close();
        this.print(`failed: ${message.message}${this.runDir ? `\nrun log: ${this.runDir}` : ''}`);
        break;
    }
  }

  close(): void {
    this.multi?.stop();
    this.multi = undefined;
    this.bar = undefined;
  }

  private line(text: string): void {
    if (this.multi) this.multi.log(`${text}\n`);
    else this.print(text);
  }
}

export function forEachRow(batch: StepBatch, visit: (row: Record<string, number>) => void): void {
  for (let i = 0; i < batch.step.length; i++) {
    const row: Record<string, number> = { step: batch.step[i], lr: batch.lr[i], loss: batch.loss[i], gradNorm: batch.gradNorm[i] };
    if (batch.clippedNorm) row.clippedNorm = batch.clippedNorm[i];
    if (batch.updateRatio) row.updateRatio = batch.updateRatio[i];
    if (batch.weightNorm) row.weightNorm = batch.weightNorm[i];
    visit(row);
  }
}
