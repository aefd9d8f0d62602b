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
