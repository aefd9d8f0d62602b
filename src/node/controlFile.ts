// Live control of a run through `control.json` in its folder, as the Python package (python/gradscope)
// reads it: the desired state, written whole and atomically (temporary file + rename). A key that is
// absent leaves that setting as it is; `clipThreshold: null` turns clipping off.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONTROL_FILE = 'control.json';

export interface ControlRequest {
  /** Ends the run after the current step (sticky: a stopped run does not restart). */
  stop?: boolean;
  /** true blocks the loop inside its next step until false (or a stop) arrives. */
  pause?: boolean;
  /** Multiplies every param group's learning rate, on top of the scheduler. Positive. */
  lrMultiplier?: number;
  /** Global-norm clip threshold (clip_grad_norm_ semantics); null: no clipping. */
  clipThreshold?: number | null;
}

/** One command-line action: stop, pause, resume, lr=<x>, clip=<x>, clip=none. Throws an Error naming it. */
export function parseControlAction(action: string): ControlRequest {
  const text = action.trim();
  if (text === 'stop') return { stop: true };
  if (text === 'pause') return { pause: true };
  if (text === 'resume') return { pause: false };
  const match = /^(lr|clip)=(.*)$/.exec(text);
  if (match) {
    const [, key, raw] = match;
    if (key === 'clip' && (raw === 'none' || raw === 'off')) return { clipThreshold: null };
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) throw new Error(`${key}= needs a positive number${key === 'clip' ? ' or none' : ''} (got ${JSON.stringify(raw)})`);
    return key === 'lr' ? { lrMultiplier: value } : { clipThreshold: value };
  }
  throw new Error(`unknown control action ${JSON.stringify(action)} (expected stop, pause, resume, lr=<multiplier>, clip=<max norm> or clip=none)`);
}

/** The state control.json asks for now ({} when there is no file, or it is not a JSON object). */
export function readControl(runDir: string): ControlRequest {
  const file = join(runDir, CONTROL_FILE);
  if (!existsSync(file)) return {};
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as ControlRequest) : {};
  } catch {
    return {};
  }
}

/** Merges `request` into the run's control.json and writes it atomically; returns what was written. */
export function writeControl(runDir: string, request: ControlRequest): ControlRequest {
  const merged = { ...readControl(runDir), ...request };
  const file = join(runDir, CONTROL_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(merged)}\n`);
  renameSync(temporary, file);
  return merged;
}
