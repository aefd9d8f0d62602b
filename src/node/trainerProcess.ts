// Host side of the trainer child, shared by the CLI and the extension (no vscode, no tfjs here).
import { fork, type ChildProcess } from 'node:child_process';
import { LineSplitter } from '../core/logs/lineSplitter';
import type { TrainerCommand, TrainerMessage, TrainRequest } from '../core/protocol';

export interface TrainerHandlers {
  message(message: TrainerMessage): void;
  /** A line the child wrote to stdout or stderr (tfjs warnings, crashes). */
  output?(line: string, stream: 'stdout' | 'stderr'): void;
}

export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One training run in a child process. `stopped` settles when the child has exited, whatever the
 * reason; stop() asks politely (the child finishes its step and closes the run log) and then kills.
 */
export class TrainerProcess {
  readonly stopped: Promise<TrainerExit>;
  private readonly child: ChildProcess;

  constructor(trainerScript: string, request: TrainRequest, handlers: TrainerHandlers) {
    this.child = fork(trainerScript, [], {
      // 'advanced' serialization keeps NaN and Infinity, which JSON would turn into null.
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new LineSplitter((line) => handlers.output?.(line, stream));
      this.child[stream]!.setEncoding('utf8');
      this.child[stream]!.on('data', (chunk: string) => splitter.push(chunk));
      this.child[stream]!.on('end', () => {
        const rest = splitter.flush();
        if (rest) handlers.output?.(rest, stream);
      });
    }
    this.child.on('message', (message) => handlers.message(message as TrainerMessage));
    this.stopped = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
      this.child.on('error', () => resolve({ code: null, signal: null }));
    });
    this.send({ type: 'start', request });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(command: TrainerCommand): void {
    if (this.child.connected) this.child.send(command);
  }

  /** Asks the run to stop; kills the child if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<TrainerExit> {
    this.send({ type: 'stop' });
    return this.exitWithin(graceMs);
  }

  /** SIGTERM, then SIGKILL if the child lingers. */
  async kill(graceMs = 2_000): Promise<TrainerExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const exit = await Promise.race([this.stopped, delay(graceMs)]);
    if (exit) return exit;
    this.child.kill('SIGKILL');
    return this.stopped;
  }

  private async exitWithin(graceMs: number): Promise<TrainerExit> {
    const exit = await Promise.race([this.stopped, delay(graceMs)]);
    return exit ?? this.kill();
  }
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
