/**
 * Splits a stream of text chunks into lines (\n or \r\n). Used for child-process output and for
 * reading logs; a chunk may end mid-line, and the rest arrives with the next chunk.
 */
export class LineSplitter {
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    let newline = chunk.indexOf('\n');
    if (newline === -1) {
      this.pending += chunk;
      return;
    }
    this.emit(this.pending + chunk.slice(0, newline));
    let start = newline + 1;
    while ((newline = chunk.indexOf('\n', start)) !== -1) {
      this.emit(chunk.slice(start, newline));
      start = newline + 1;
    }
    this.pending = chunk.slice(start);
  }

  /** The text after the last newline (a line without its terminator), and resets. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  private emit(line: string): void {
    this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}

/**
 * Splits a stream of byte chunks into lines (\n or \r\n) without decoding them, for readers that
 * look at the bytes first. `onLine` gets a view of the line that is valid only during the call.
 */
export class ByteLineSplitter {
  private pending = new Uint8Array(0);
  private pendingLength = 0;

  constructor(private readonly onLine: (data: Uint8Array, start: number, end: number) => void) {}

  push(chunk: Uint8Array): void {
    let newline = chunk.indexOf(0x0a);
    if (newline === -1) {
      this.keep(chunk, 0, chunk.length);
      return;
    }
    if (this.pendingLength > 0) {
      this.keep(chunk, 0, newline);
      const length = this.pendingLength;
      this.pendingLength = 0;
      this.emit(this.pending, 0, length);
    } else {
      this.emit(chunk, 0, newline);
    }
    let start = newline + 1;
    while ((newline = chunk.indexOf(0x0a, start)) !== -1) {
      this.emit(chunk, start, newline);
      start = newline + 1;
    }
    this.keep(chunk, start, chunk.length);
  }

  /** The bytes after the last newline (a line without its terminator), and resets. */
  flush(): Uint8Array {
    const rest = this.pending.slice(0, this.pendingLength);
    this.pendingLength = 0;
    return rest;
  }

  private keep(chunk: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length === 0) return;
    if (this.pendingLength + length > this.pending.length) {
      const grown = new Uint8Array(Math.max(2 * this.pending.length, this.pendingLength + length, 4096));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(chunk.subarray(start, end), this.pendingLength);
    this.pendingLength += length;
  }

  private emit(data: Uint8Array, start: number, end: number): void {
    this.onLine(data, start, end > start && data[end - 1] === 0x0d ? end - 1 : end);
  }
}
