// The schema VS Code's JSON service gets for job files: hover text, defaults and completions only.
// Gradscope itself reports every problem of a job file (syntax, schema and rules) as an error, once;
// the JSON service would report schema problems a second time, as warnings (a contributed schema's
// severity cannot be set). So every validating keyword is dropped here: the alternatives of a
// oneOf/if-then-else are merged into one list of properties, and enum/const values become examples
// (which the JSON service still offers as completions).

const DOC_KEYS = ['title', 'description', 'markdownDescription', 'default', 'examples', 'defaultSnippets', '$ref'];

/** The documentation-only form of a JSON schema (draft-07, as scripts/schema-src.mjs writes it). */
export function docsSchema(schema) {
  const resolve = (node) => {
    if (node && typeof node.$ref === 'string' && node.$ref.startsWith('#/definitions/')) return schema.definitions[node.$ref.slice('#/definitions/'.length)];
    return node;
  };
  const convert = (node, seen = new Set()) => {
    if (!node || typeof node !== 'object') return {};
    const out = {};
    for (const key of DOC_KEYS) if (node[key] !== undefined) out[key] = node[key];
    const examples = [...(out.examples ?? []), ...(Array.isArray(node.enum) ? node.enum : []), ...(node.const !== undefined ? [node.const] : [])];
    if (examples.length) out.examples = [...new Set(examples)];
    const properties = {};
    const addProperties = (from) => {
      for (const [name, child] of Object.entries(from ?? {})) {
        const converted = convert(child, seen);
        properties[name] = properties[name] ? mergeDocs(properties[name], converted) : converted;
      }
    };
    addProperties(node.properties);
    for (const key of ['oneOf', 'anyOf', 'allOf']) {
      for (const alternative of node[key] ?? []) {
        const target = resolve(alternative);
        if (seen.has(target)) continue;
        const merged = convert(target, new Set([...seen, target]));
        addProperties(merged.properties);
        if (merged.examples) out.examples = [...new Set([...(out.examples ?? []), ...merged.examples])];
        if (merged.items && !out.items) out.items = merged.items;
      }
    }
    for (const key of ['then', 'else']) if (node[key]) addProperties(convert(node[key], seen).properties);
    if (Object.keys(properties).length) out.properties = properties;
    if (node.items && !Array.isArray(node.items)) out.items = convert(node.items, seen);
    if (node.definitions) out.definitions = Object.fromEntries(Object.entries(node.definitions).map(([name, child]) => [name, convert(child, seen)]));
    return out;
  };
  return { $schema: schema.$schema, title: schema.title, ...convert(schema) };
}

/** Two documentations of one property from different alternatives: the first description wins, completions add up. */
function mergeDocs(a, b) {
  const out = { ...b, ...a };
  if (a.examples || b.examples) out.examples = [...new Set([...(a.examples ?? []), ...(b.examples ?? [])])];
  if (a.properties || b.properties) {
    out.properties = { ...(b.properties ?? {}) };
    for (const [name, child] of Object.entries(a.properties ?? {})) out.properties[name] = out.properties[name] ? mergeDocs(child, out.properties[name]) : child;
  }
  return out;
}
