/**
 * Commands from the host, seen by the loop between steps: stop, pause/resume, LR multiplier and clip
 * threshold. checkpoint() also yields to the event loop, so IPC messages are read while training.
 */
export class RunControl {
  lrMultiplier = 1;
  /** Overrides the job's clip threshold (global norm) when set. */
  clipThreshold: number | undefined;
  private stopped = false;
  private resumeWaiter: (() => void) | undefined;
  private paused = false;

  stop(): void {
    this.stopped = true;
    this.resume();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.resumeWaiter?.();
    this.resumeWaiter = undefined;
  }

  /** Waits while paused; false when the run should stop. */
  async checkpoint(): Promise<boolean> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.paused && !this.stopped) await new Promise<void>((resolve) => (this.resumeWaiter = resolve));
    return !this.stopped;
  }
}
