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
  private lastYield = 0;

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

  /**
   * Waits while paused; false when the run should stop. Yields to the event loop (so that commands
   * arrive) at most every 20 ms: a turn of the loop every step cost ~1% of a small model's step time.
   */
  async checkpoint(): Promise<boolean> {
    const now = performance.now();
    if (now - this.lastYield >= 20 || this.paused) {
      this.lastYield = now;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    while (this.paused && !this.stopped) await new Promise<void>((resolve) => (this.resumeWaiter = resolve));
    return !this.stopped;
  }
}
