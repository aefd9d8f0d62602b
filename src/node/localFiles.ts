// Small reads the extension host needs, done without blocking its thread.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Data rows of a CSV file (non-blank lines after the header), read as a stream; undefined when the
 * file cannot be read.
 */
export async function countCsvRows(file: string): Promise<number | undefined> {
  let lines = 0;
  let blank = true;
  try {
    for await (const chunk of createReadStream(file, { encoding: 'utf8' }) as AsyncIterable<string>) {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk.charCodeAt(i);
        if (c === 10) {
          if (!blank) lines++;
          blank = true;
        } else if (blank && c !== 13 && c !== 32 && c !== 9) {
          blank = false;
        }
      }
    }
  } catch {
    return undefined;
  }
  if (!blank) lines++;
  return Math.max(0, lines - 1);
}

export interface RunFolder {
  /** The run folder's name (it starts with its start time, so names sort by age). */
  name: string;
  /** Absolute path of the run folder. */
  dir: string;
  /** The runs directory it was found in. */
  runsDir: string;
}

/** The run folders in every given runs directory, newest first; a missing directory has none. */
export async function listRunFolders(runsDirs: readonly string[]): Promise<RunFolder[]> {
  const found = await Promise.all(
    [...new Set(runsDirs)].map(async (runsDir) => {
      try {
        const entries = await readdir(runsDir, { withFileTypes: true });
        return entries.filter((entry) => entry.isDirectory()).map((entry) => ({ name: entry.name, dir: join(runsDir, entry.name), runsDir }));
      } catch {
        return []; // no runs directory yet
      }
    }),
  );
  return found.flat().sort((a, b) => (a.name === b.name ? a.runsDir.localeCompare(b.runsDir) : b.name.localeCompare(a.name)));
}
