import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { JobSpec } from './spec';
import { problemsFromAjv, validatorFor, type JsonPath } from './schema';
import { scheduleRuleProblems, type LocatedProblem } from '../schedules';

export type * from './spec';
import { SpecError, type Problem, type TextRange } from './specError';

export interface JobCheck {
  /** The validated job, when there were no problems. */
  readonly job?: JobSpec;
  /** Every problem found, each with its JSON path and its range in the text. */
  readonly problems: readonly Problem[];
}

/** Checks a job file's text: JSON syntax, then the schema, then the rules a schema cannot say. Never throws. */
export function checkJobText(text: string): JobCheck {
  const lines = lineStarts(text);
  const syntaxErrors: ParseError[] = [];
  const root = parseTree(text, syntaxErrors, { disallowComments: true, allowTrailingComma: false });
  if (syntaxErrors.length > 0 || !root) {
    const problems = syntaxErrors.map((error): Problem => ({
      path: '',
      message: `is not valid JSON: ${describeSyntaxError(error)}`,
      range: toRange(lines, error.offset, error.length),
      origin: 'syntax',
    }));
    return { problems: problems.length ? problems : [{ path: '', message: 'is empty', range: toRange(lines, 0, 0), origin: 'syntax' }] };
  }
  const value: unknown = JSON.parse(text);
  const validate = validatorFor('job');
  const schemaValid = validate(value);
  const located: LocatedProblem[] = schemaValid ? scheduleRuleProblems((value as JobSpec).schedule, ['schedule']) : problemsFromAjv(validate.errors);
  if (located.length === 0) return { job: value as JobSpec, problems: [] };
  const origin = schemaValid ? 'rule' : 'schema';
  const problems = located.map(({ path, problem, pointAt }) => ({ ...problem, range: rangeOfPath(root, path, lines, pointAt), origin }) as const);
  return { problems: problems.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character) };
}

/** Like checkJobText, but throws a SpecError naming the file, line and field of the first problem. */
export function parseJobText(text: string, file?: string): JobSpec {
  const { job, problems } = checkJobText(text);
  if (!job) throw new SpecError(problems, file);
  return job;
}

function describeSyntaxError(error: ParseError): string {
  // 'InvalidSymbol' → 'invalid symbol'
  return printParseErrorCode(error.error)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

/**
 * The range a user would look at for a path: a scalar value itself; an unknown field's key; for a
 * missing field, or a problem with a whole object, the key of the nearest enclosing value.
 */
function rangeOfPath(root: Node, path: JsonPath, lines: number[], pointAt?: 'key'): TextRange {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = findNodeAtLocation(root, path.slice(0, depth));
    if (!node) continue;
    const exact = depth === path.length;
    if (exact && pointAt !== 'key' && node.type !== 'object' && node.type !== 'array') return toRange(lines, node.offset, node.length);
    const key = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
    // The root object has no key: its opening brace stands for it.
    return key ? toRange(lines, key.offset, key.length) : toRange(lines, node.offset, 1);
  }
  return toRange(lines, 0, 0);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function toRange(starts: number[], offset: number, length: number): TextRange {
  return { start: position(starts, offset), end: position(starts, offset + length) };
}

function position(starts: number[], offset: number): { line: number; character: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - starts[lo] };
}
