// Trainer child process entry (forked by the extension host and the CLI). The training loop arrives
// with the training-engine issue; until then the child reports that clearly instead of hanging.
import type { TrainerMessage } from '../core/protocol';

function send(message: TrainerMessage): void {
  if (process.send) process.send(message);
  else process.stdout.write(`${JSON.stringify(message)}\n`);
}

send({ type: 'failed', message: 'the Gradscope trainer is not available in this version yet' });
process.exitCode = 1;
