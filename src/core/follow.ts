// `tail -f` for metrics logs: reads what is appended, survives truncation and rotation.
import { promises as fs } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from './lineSplitter';

export interface FollowOptions {
  /** Time between two looks at the file, in milliseconds. Default: 200. */
  pollMs?: number;
  /** Called when the file was truncated or replaced (rotation): reading restarts from its top. */
  onRestart?: (reason: 'truncated' | 'rotated') => void;
  /** Called when the file cannot be read (it will be tried again). */
  onError?: (error: Error) => void;
  /** Called after each look at the file, once the lines it brought were handed out. */
  onPoll?: () => void;
}

/**
 * Follows a growing file line by line. It polls the file's size and inode: new bytes are read and
 * split into lines (a line still being written waits for its newline); a smaller size means the
 * file was truncated, a new inode that it was rotated, and either way reading starts again at 0.
 */
export class FileFollower {
  private position = 0;
  private inode: number | undefined;
  private lineNumber = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private decoder = new StringDecoder('utf8');
  private splitter: LineSplitter;
  private reading: Promise<void> | undefined;

  constructor(readonly file: string, private readonly onLine: (line: string, lineNumber: number) => void, private readonly options: FollowOptions = {}) {
    this.splitter = this.newSplitter();
  }

  /** Reads what is there now, then keeps polling until stop(). */
  async start(): Promise<void> {
    await this.poll();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One look at the file (also used by tests to step the follower without waiting). */
  poll(): Promise<void> {
    this.reading ??= this.readNew()
      .then(() => this.options.onPoll?.())
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll().then(() => this.schedule()), this.options.pollMs ?? 200);
  }

  private async readNew(): Promise<void> {
    let handle: fs.FileHandle | undefined;
    try {
      const stat = await fs.stat(this.file);
      if (this.inode !== undefined && stat.ino !== this.inode) this.restart('rotated');
      else if (stat.size < this.position) this.restart('truncated');
      this.inode = stat.ino;
      if (stat.size === this.position) return;
      handle = await fs.open(this.file, 'r');
      const chunk = Buffer.alloc(Math.min(stat.size - this.position, 8 << 20));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, this.position);
      this.position += bytesRead;
      this.splitter.push(this.decoder.write(chunk.subarray(0, bytesRead)));
    } catch (error) {
      this.options.onError?.(error as Error);
    } finally {
      await handle?.close();
    }
  }

  private restart(reason: 'truncated' | 'rotated'): void {
    this.position = 0;
    this.lineNumber = 0;
    this.decoder = new StringDecoder('utf8');
    this.splitter = this.newSplitter();
    this.options.onRestart?.(reason);
  }

  private newSplitter(): LineSplitter {
    return new LineSplitter((line) => this.onLine(line, ++this.lineNumber));
  }
}
