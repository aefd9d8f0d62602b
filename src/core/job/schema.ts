import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import jobSchema from '../../../schema/job.schema.json';
import { formatPath, type Problem } from './specError';

/** JSON path segments of a value, as ajv's instancePath (`/schedule/schedules/1`) names it. */
export type JsonPath = (string | number)[];

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

/**
 * A validator for `#/definitions/<name>` (or the whole job when name is `job`). Validation fills in
 * defaults from the schema, so the schema is the single place where defaults are written down.
 */
export function validatorFor(name: 'job' | 'schedule'): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    ajv ??= new Ajv({ allErrors: true, verbose: true, useDefaults: true, discriminator: true, strict: true, allowUnionTypes: true });
    if (!ajv.getSchema(jobSchema.$id)) ajv.addSchema(jobSchema);
    validate = ajv.getSchema(name === 'job' ? jobSchema.$id : `${jobSchema.$id}#/definitions/${name}`);
    if (!validate) throw new Error(`no schema definition ${name}`);
    compiled.set(name, validate);
  }
  return validate;
}

export interface LocatedProblem {
  readonly path: JsonPath;
  readonly problem: Problem;
  /** Mark the field's key rather than its value (for fields that should not be there). */
  readonly pointAt?: 'key';
}

/** Ajv errors → one problem per offending location, in words a user understands. */
export function problemsFromAjv(errors: readonly ErrorObject[] | null | undefined, base: JsonPath = []): LocatedProblem[] {
  const out: LocatedProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    // A failing oneOf/discriminator repeats the specific error already reported for the chosen branch.
    if (error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const path = [...base, ...parsePointer(error.instancePath)];
    let message = error.message ?? 'is invalid';
    let pointAt: 'key' | undefined;
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'additionalProperties':
        path.push(String(params.additionalProperty));
        message = 'is not a known field';
        pointAt = 'key';
        break;
      case 'required':
        path.push(String(params.missingProperty));
        message = 'is required';
        break;
      case 'enum':
        message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(error.data)})`;
        break;
      case 'const':
        message = `must be ${JSON.stringify(params.allowedValue)}`;
        break;
      case 'discriminator':
        path.push(String(params.tag));
        message =
          params.error === 'mapping'
            ? `must be one of ${scheduleTypes()
                .map((t) => JSON.stringify(t))
                .join(', ')} (got ${JSON.stringify((error.data as Record<string, unknown>)?.[String(params.tag)])})`
            : 'is required and must be a string';
        break;
      default:
        if (error.data !== undefined && typeof error.data !== 'object') message += ` (got ${JSON.stringify(error.data)})`;
    }
    const key = `${formatPath(path)}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, problem: { path: formatPath(path), message }, ...(pointAt ? { pointAt } : {}) });
  }
  return out;
}

export function scheduleTypes(): string[] {
  return Object.keys(jobSchema.definitions)
    .filter((key) => key.startsWith('schedule.'))
    .map((key) => key.slice('schedule.'.length));
}

function parsePointer(pointer: string): JsonPath {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}
