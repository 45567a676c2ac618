import { str } from './cel.js';

/** A piece of CEL code inside a value that `celValue` renders (for the parts computed per pod). */
export class Cel {
  constructor(readonly code: string) {}
}
export const cel = (code: string): Cel => new Cel(code);

/**
 * A JSON-like value as a CEL literal. The apiserver's CEL insists on homogeneous list and map
 * literals, so every map value is wrapped in dyn(): a container is a map of strings, numbers,
 * lists and maps, which is what JSONPatch turns back into JSON.
 */
export function celValue(v: unknown): string {
  if (v instanceof Cel) return v.code;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return str(v);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`celValue: ${v} is not an integer`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map((x) => `dyn(${celValue(x)})`).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  return `{${entries.map(([k, x]) => `${str(k)}: dyn(${celValue(x)})`).join(', ')}}`;
}
