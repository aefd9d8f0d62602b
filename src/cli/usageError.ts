/** Bad input on the command line or in a file it names: exit code 2, one line, no stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parsePositiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${option} must be a positive integer (got ${JSON.stringify(text)})`);
  return value;
}
