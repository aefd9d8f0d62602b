// Trainer child process (forked by the extension host and the CLI). It speaks the typed protocol of
// src/core/protocol.ts over the IPC channel: the first message is `start`, later ones control the run.
import type { TrainerCommand, TrainerMessage } from '../core/protocol';
import { SpecError } from '../core/job/specError';
import { firstLine } from './backend';
import { DataError } from './data';
import { RunControl } from './runControl';
import { runJob } from './run';

const control = new RunControl();
let started = false;

/**
 * Sends to the host. The channel can break before 'disconnect' arrives (the host died mid-step);
 * with a callback Node reports that error here instead of throwing, and the run stops cleanly.
 */
function send(message: TrainerMessage): void {
  if (!process.connected) return;
  process.send!(message, undefined, {}, (error) => {
    if (error) control.stop();
  });
}

/** Exits once the last message has left: process.send is asynchronous. */
function exitAfterSend(message: TrainerMessage, code: number): void {
  if (!process.connected) process.exit(code);
  process.send!(message, undefined, {}, () => process.exit(code));
}

process.on('message', (command: TrainerCommand) => {
  switch (command.type) {
    case 'start':
      if (started) return;
      started = true;
      runJob(command.request, send, control).then(
        (summary) => exitAfterSend({ type: 'finished', summary }, 0),
        (error: unknown) => {
          // Input problems are the user's to fix: one clear line. Anything else is ours: keep the stack for the log.
          const known = error instanceof DataError || error instanceof SpecError;
          if (!known) send({ type: 'log', level: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
          exitAfterSend({ type: 'failed', message: firstLine(error) }, 1);
        },
      );
      break;
    case 'stop':
      control.stop();
      break;
    case 'pause':
      control.pause();
      break;
    case 'resume':
      control.resume();
      break;
    case 'setLrMultiplier':
      control.lrMultiplier = command.value;
      break;
    case 'setClipThreshold':
      control.clipThreshold = command.value;
      break;
  }
});

// The parent went away (window closed, CLI killed) or asked us to terminate: finish the step,
// close the run log, leave. Only SIGKILL ends a run without its summary. Ctrl-C in a terminal
// reaches the whole process group, this child too: a polite stop, as the CLI's own first Ctrl-C
// asks (its second one kills).
process.on('disconnect', () => control.stop());
process.on('SIGTERM', () => control.stop());
process.on('SIGINT', () => control.stop());
if (!process.send) {
  process.stderr.write('gradscope trainer: run me through the extension or `gradscope train`, not directly\n');
  process.exit(2);
}
