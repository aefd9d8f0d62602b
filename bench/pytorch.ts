import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The same MLP step in PyTorch (when python3 can import torch), on one thread like wasm: ms/step,
 * or undefined when PyTorch is not installed. Never a dependency of Gradscope.
 */
export function pytorchStepMs(): number | undefined {
  const probe = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return undefined;
  const run = spawnSync('python3', [join(__dirname, 'pytorch_mlp.py')], { encoding: 'utf8' });
  const value = Number(run.stdout.trim());
  return run.status === 0 && Number.isFinite(value) ? value : undefined;
}
