/**
 * One logged row's raw values, before any clipping. A missing (undefined) value is missing, not
 * bad: the detectors that need it skip the row (their windows and patience do not advance), and only
 * values that are present are checked for NaN/Infinity.
 */
export interface StepSample {
  step: number;
  loss?: number;
  gradNorm?: number;
  /** The learning rate this row trained with, when known (grades explosions, spots loss-scaler skips). */
  lr?: number;
  /**
   * The validation loss, on the rows that have one (once an epoch, or every few hundred steps). A
   * jump there is a lossSpike with `series: 'validation'`, graded like the training loss over the
   * rows that carry it.
   */
  validationLoss?: number;
  /** Per-layer gradient norms, in the order of the layer names the detectors were made with (an undefined entry is missing). */
  layerGradNorms?: ArrayLike<number | undefined>;
}
