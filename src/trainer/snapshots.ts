import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import type { Tf } from './backend';
import type { NamedTensor, StepOptimizer } from './optimizers';

/** The last good weights (trainable and not, e.g. batch-norm statistics) and optimizer state, in memory. */
export class Snapshots {
  private weights: Tensor[] | undefined;
  private optimizerState: NamedTensor[] | undefined;

  constructor(
    private readonly tf: Tf,
    private readonly model: LayersModel,
    private readonly optimizer: StepOptimizer,
  ) {}

  async take(): Promise<void> {
    this.dispose();
    this.weights = this.model.weights.map((w) => w.read().clone());
    this.optimizerState = await this.optimizer.snapshot();
  }

  /** Restores the last snapshot; without one (a rollback before the first) the weights stay. */
  async restore(): Promise<boolean> {
    if (!this.weights || !this.optimizerState) return false;
    this.model.weights.forEach((w, i) => {
      const copy = this.weights![i].clone();
      w.write(copy);
      copy.dispose(); // the variable keeps its own reference to the data
    });
    await this.optimizer.restore(this.optimizerState);
    return true;
  }

  dispose(): void {
    if (this.weights) this.tf.dispose(this.weights);
    if (this.optimizerState) this.tf.dispose(this.optimizerState.map((w) => w.tensor));
    this.weights = undefined;
    this.optimizerState = undefined;
  }
}
