/** A problem with user input (a job file, a schedule spec, a log line) that names where it is. */
export interface Problem {
  /** JSON path of the offending value, e.g. `schedule.pctStart` or `schedule.schedules[1].lr`. */
  readonly path: string;
  /** What is wrong, phrased as the rule that was broken: `must be < 1 (got 1.5)`. */
  readonly message: string;
  /** Zero-based position in the source text, when the input came from a file. */
  readonly range?: TextRange;
  /** Which check found it: JSON syntax, the JSON schema, or a rule the schema cannot state. */
  readonly origin?: 'syntax' | 'schema' | 'rule';
}

export interface TextRange {
  /** Zero-based line and character of the start (VS Code's convention). */
  readonly start: { line: number; character: number };
  readonly end: { line: number; character: number };
}

/** Thrown for invalid input; its message is one line meant for the user, never a stack trace. */
export class SpecError extends Error {
  constructor(
    readonly problems: readonly Problem[],
    readonly file?: string,
  ) {
    super(formatProblems(problems, file));
    this.name = 'SpecError';
  }
}

export function formatProblem(problem: Problem, file?: string): string {
  const where = problem.range ? `${file ?? '<input>'}:${problem.range.start.line + 1}:${problem.range.start.character + 1}: ` : file ? `${file}: ` : '';
  return `${where}${problem.path || '(root)'} ${problem.message}`;
}

function formatProblems(problems: readonly Problem[], file?: string): string {
  const first = problems[0];
  if (!first) return 'invalid input';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return formatProblem(first, file) + more;
}

/** `['schedule', 'schedules', 1, 'lr']` → `schedule.schedules[1].lr` */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}
