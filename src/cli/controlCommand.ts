import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseControlAction, runProcessGone, writeControl, type ControlRequest } from '../node/controlFile';
import { RUN_FILES } from '../node/runlog';
import { UsageError } from './usageError';

/**
 * `gradscope control <run_dir> stop|pause|resume|lr=0.5|clip=1.0|clip=none…`: asks a running
 * training loop (one the Python package monitors) to change course, through control.json.
 */
export function controlCommand(runDir: string, actions: string[]): ControlRequest {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new UsageError(`${runDir}: no such run folder`);
  if (!existsSync(join(runDir, RUN_FILES.job))) throw new UsageError(`${runDir} is not a Gradscope run folder (no ${RUN_FILES.job})`);
  if (existsSync(join(runDir, RUN_FILES.summary))) throw new UsageError(`${runDir}: the run has ended (${RUN_FILES.summary} exists); nothing reads its control file any more`);
  const gone = runProcessGone(runDir);
  if (gone) throw new UsageError(`${runDir}: the run has ended: ${gone}; nothing reads its control file any more`);
  if (actions.length === 0) throw new UsageError('control: name an action: stop, pause, resume, lr=<multiplier>, clip=<max norm> or clip=none');
  let request: ControlRequest = {};
  for (const action of actions) {
    try {
      request = { ...request, ...parseControlAction(action) };
    } catch (error) {
      throw new UsageError(`control: ${(error as Error).message}`);
    }
  }
  return writeControl(runDir, request);
}
