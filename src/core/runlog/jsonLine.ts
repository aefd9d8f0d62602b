// JSON lines as Python's json module and PyTorch loggers write them: bare NaN, Infinity and -Infinity
// are allowed as values. Gradscope writes the same, so a non-finite loss survives a round trip.

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const MARK = '\u0000nf:';

/** Parses one line; throws SyntaxError (with the JSON engine's reason) when it is not JSON. */
export function parseJsonLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    // Slow path only for lines that need it: quote bare non-finite tokens outside strings, then revive.
    if (!/NaN|Infinity/.test(line)) throw error;
    return JSON.parse(quoteNonFinite(line), (_key, value: unknown) => (typeof value === 'string' && value.startsWith(MARK) ? NON_FINITE[value.slice(MARK.length)] : value));
  }
}

function quoteNonFinite(line: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      out += c;
      if (c === '\\') out += line[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = line.startsWith('-Infinity', i) ? '-Infinity' : line.startsWith('Infinity', i) ? 'Infinity' : line.startsWith('NaN', i) ? 'NaN' : undefined;
    if (token) {
      out += JSON.stringify(MARK + token);
      i += token.length - 1;
    } else {
      out += c;
    }
  }
  return out;
}

/** JSON.stringify that writes non-finite numbers as bare NaN / Infinity / -Infinity (Python's spelling). */
export function stringifyJsonLine(value: unknown): string {
  let hasNonFinite = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      hasNonFinite = true;
      return MARK + String(v);
    }
    return v;
  });
  if (!hasNonFinite) return text;
  return text.replace(/"\\u0000nf:(NaN|Infinity|-Infinity)"/g, '$1');
}

/**
 * JSON.stringify for lines every JSON parser reads (the CLI's `--json` output: jq, JSON.parse): a
 * non-finite number is the string "NaN", "Infinity" or "-Infinity", as protobuf's JSON mapping
 * writes it. Log files keep Python's bare spelling (stringifyJsonLine).
 */
export function stringifyStrictJsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => nonFiniteAsText(v));
}

/** A non-finite number as the string strict JSON carries it ("NaN", "Infinity", "-Infinity"); anything else as it is. */
export function nonFiniteAsText(value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
