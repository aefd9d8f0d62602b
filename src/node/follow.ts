// `tail -f` for metrics logs: reads what is appended, survives truncation and rotation.
import { promises as fs } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from '../core/logs/lineSplitter';

export interface FollowOptions {
  /** Time between two looks at the file, in milliseconds. Default: 200. */
  pollMs?: number;
  /**
   * Called when the file was truncated, replaced (rotation) or rewritten in place with another first
   * line (Lightning's CSVLogger rewrites metrics.csv with a new header when a new metric appears):
   * reading restarts from its top.
   */
  onRestart?: (reason: 'truncated' | 'rotated' | 'rewritten') => void;
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
  /** The file's first line (up to 4 kB) as last read: a different one means the file was rewritten. */
  private firstLine: Buffer | undefined;

  constructor(
    readonly file: string,
    private readonly onLine: (line: string, lineNumber: number) => void,
    private readonly options: FollowOptions = {},
  ) {
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
      handle = await fs.open(this.file, 'r');
      if (this.position > 0 && this.firstLine && !(await this.sameFirstLine(handle))) this.restart('rewritten');
      if (stat.size === this.position) return;
      const chunk = Buffer.alloc(Math.min(stat.size - this.position, 8 << 20));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, this.position);
      if (this.position === 0) this.firstLine = firstLineOf(chunk.subarray(0, bytesRead));
      this.position += bytesRead;
      this.splitter.push(this.decoder.write(chunk.subarray(0, bytesRead)));
    } catch (error) {
      this.options.onError?.(error as Error);
    } finally {
      await handle?.close();
    }
  }

  private async sameFirstLine(handle: fs.FileHandle): Promise<boolean> {
    const known = this.firstLine!;
    const now = Buffer.alloc(known.length);
    const { bytesRead } = await handle.read(now, 0, now.length, 0);
    return bytesRead === known.length && now.equals(known);
  }

  private restart(reason: 'truncated' | 'rotated' | 'rewritten'): void {
    this.position = 0;
    this.lineNumber = 0;
    this.firstLine = undefined;
    this.decoder = new StringDecoder('utf8');
    this.splitter = this.newSplitter();
    this.options.onRestart?.(reason);
  }

  private newSplitter(): LineSplitter {
    return new LineSplitter((line) => this.onLine(line, ++this.lineNumber));
  }
}

/** The first line of a file's first bytes, newline included (at most 4 kB). */
function firstLineOf(bytes: Buffer): Buffer {
  const newline = bytes.indexOf(10);
  return Buffer.from(bytes.subarray(0, newline >= 0 ? Math.min(newline + 1, 4096) : Math.min(bytes.length, 4096)));
}
