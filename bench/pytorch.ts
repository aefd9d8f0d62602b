import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A python3 that can import torch: the first on the PATH, else Debian's /usr/bin/python3 (where
 * python3-torch installs; a virtualenv earlier on the PATH often lacks it). Undefined when neither.
 */
export function findTorchPython(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

/**
 * The seed MLP's step in PyTorch on `threads` CPU threads: ms/step, or undefined when the run
 * failed. Never a dependency of Gradscope.
 */
export function pytorchStepMs(python: string, threads: number): number | undefined {
  const run = spawnSync(python, [join(__dirname, 'pytorch_mlp.py'), String(threads)], { encoding: 'utf8' });
  const value = Number(run.stdout.trim());
  return run.status === 0 && Number.isFinite(value) ? value : undefined;
}
