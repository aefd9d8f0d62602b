/** Where the generated module goes: src/trainer/simdKernelsWasm.ts. */
export const target: string;
/** The text of src/trainer/simdKernelsWasm.ts for the current kernels.wat. */
export function generatedSource(): Promise<string>;
