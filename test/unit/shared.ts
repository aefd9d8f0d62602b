import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The project's shared reference data (../shared beside the clone, as CI lays it out), if present. */
export function sharedReference(...parts: string[]): string | undefined {
  const root = process.env.GRADSCOPE_SHARED ?? resolve(__dirname, '../../../shared');
  const path = resolve(root, 'reference', ...parts);
  return existsSync(path) ? path : undefined;
}
