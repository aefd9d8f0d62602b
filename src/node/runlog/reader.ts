import { createReadStream } from 'node:fs';
import { LineSplitter } from '../../core/logs/lineSplitter';
import { parseJsonLine } from '../../core/runlog/jsonLine';

export interface JsonlRecord {
  /** One-based line number in the file. */
  readonly line: number;
  readonly value: unknown;
}

export interface ReadJsonlOptions {
  /** Called for a malformed line instead of throwing; the line is skipped. Default: throw JsonlError. */
  onBadLine?: (error: JsonlError) => void;
  /** Called when the last line has no newline and does not parse: a write cut short by a crash. */
  onTruncatedTail?: (line: number, text: string) => void;
  /** Stops reading (the generator returns) when aborted. */
  signal?: AbortSignal;
}

export class JsonlError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'JsonlError';
  }
}

/**
 * Streams a JSON-lines file, one parsed value per line, in memory bounded by the chunk size: files
 * far larger than memory are fine. Blank lines are skipped. A last line cut off mid-write (no final
 * newline, not parseable) is what a crash leaves: it is reported to onTruncatedTail, not thrown.
 */
export async function* readJsonl(file: string, options: ReadJsonlOptions = {}): AsyncGenerator<JsonlRecord> {
  let lineNumber = 0;
  const ready: JsonlRecord[] = [];
  const parseLine = (text: string) => {
    lineNumber += 1;
    if (text.trim() === '') return;
    try {
      ready.push({ line: lineNumber, value: parseJsonLine(text) });
    } catch (error) {
      const problem = new JsonlError(file, lineNumber, `not a JSON object (${(error as Error).message})`);
      if (options.onBadLine) options.onBadLine(problem);
      else throw problem;
    }
  };
  const splitter = new LineSplitter(parseLine);
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      if (options.signal?.aborted) return;
      splitter.push(chunk);
      yield* ready;
      ready.length = 0;
    }
  } finally {
    stream.destroy();
  }
  const tail = splitter.flush();
  if (tail.trim() === '') return;
  lineNumber += 1;
  try {
    yield { line: lineNumber, value: parseJsonLine(tail) };
  } catch {
    options.onTruncatedTail?.(lineNumber, tail);
  }
}
