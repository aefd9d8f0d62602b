// Host ↔ the tool views: the range test, the comparison and the schedule preview.
import type { CompareRow } from '../tools/compareTable';
import type { LrFindResult } from '../tools/lrFind';
import type { RunEvent } from './run';

/** One strategy of a comparison: its table row and its series, for the overlay charts. */
export interface CompareRun {
  strategy: string;
  step: number[];
  lr: number[];
  loss: number[];
  gradNorm: number[];
  events: RunEvent[];
}

export interface CompareState {
  title: string;
  target: number | null;
  sortedBy: keyof CompareRow;
  rows: CompareRow[];
  runs: CompareRun[];
  /** Strategies still to run or running. */
  pending: string[];
  /** Each strategy's progress, in the order they were picked. Default: none (nothing to show). */
  progress?: CompareProgress[];
}

/** How far one strategy of a comparison has got. */
export interface CompareProgress {
  strategy: string;
  state: 'queued' | 'running' | 'done';
  /** Updates done so far. */
  step: number;
  /** Updates the run plans; 0 until it has started. */
  totalSteps: number;
}

export interface PreviewState {
  title: string;
  totalSteps: number;
  /** How totalSteps was found (from epochs, batch size and data size, or a guess). */
  stepsNote: string;
  planned: number[];
  /** The range the actual rate can move in: plateau cuts and guard backoffs only go down. */
  band?: { low: number[]; label: string };
  problems: string[];
}

/** Host → a tool view (range test, comparison, schedule preview). */
export type ToolToWebview =
  { type: 'lrFind'; title: string; result: LrFindResult; currentPeak?: number; applied?: boolean } | { type: 'compare'; state: CompareState } | { type: 'preview'; state: PreviewState };

/** A tool view → host. */
export type ToolToHost = { type: 'ready' } | { type: 'applyLr' } | { type: 'sortCompare'; column: keyof CompareRow } | { type: 'exportCompare'; format: 'csv' | 'markdown' };
