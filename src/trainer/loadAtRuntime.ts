/**
 * Loads a module chosen at run time: an optional backend (tfjs-node, which may be absent), tfjs
 * itself (kept out of the bundle: it loads native and .wasm files relative to its package), or a
 * user's data or model file. A static import cannot express any of these.
 */
export function loadAtRuntime<T>(specifierOrPath: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(specifierOrPath) as T;
}

/** Resolves a package file at run time, optionally from given folders (a user's workspace). */
export function resolveAtRuntime(specifier: string, paths?: string[]): string {
  return require.resolve(specifier, paths ? { paths } : undefined);
}
