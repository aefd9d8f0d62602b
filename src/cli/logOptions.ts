// Options and messages shared by the commands that read logs (inspect, report).
import { parseColumnMapping, type ColumnMapping } from '../core/logs/columns';
import { LogFormatError } from '../core/logs/documents';
import type { FormatName } from '../core/logs/formats';
import { FORMAT_NAMES } from '../node/logs/sources';
import { UsageError } from './usageError';

/** Problems shown one by one before they are only counted: a broken file must not flood the terminal. */
const SHOWN_PROBLEMS = 5;

/** `report` for each line or record that could not be read; `finish` prints the count of the rest. */
export function problemReporter(): { report: (message: string) => void; finish: () => void } {
  let problems = 0;
  return {
    report: (message) => {
      if (++problems <= SHOWN_PROBLEMS) process.stderr.write(`gradscope: skipped ${message}\n`);
    },
    finish: () => {
      if (problems > SHOWN_PROBLEMS) process.stderr.write(`gradscope: … ${problems - SHOWN_PROBLEMS} more lines or records could not be read (${problems} in all)\n`);
    },
  };
}

export function mapOption(text: string | undefined): ColumnMapping {
  try {
    return parseColumnMapping(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function formatOption(text: string | undefined): FormatName | undefined {
  if (text === undefined) return undefined;
  if (!(FORMAT_NAMES as string[]).includes(text)) throw new UsageError(`--format takes one of ${FORMAT_NAMES.join(', ')} (got ${JSON.stringify(text)})`);
  return text as FormatName;
}

/** Runs a read; a log that cannot be read is a usage error (exit 2, one line). */
export async function asUsage<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof LogFormatError) throw new UsageError(error.message);
    throw error;
  }
}

/** "1 event", "2 events": a count and its noun, plural when it is not one. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
