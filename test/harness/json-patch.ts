import type { JsonPatchOp } from '../../engine/src/admission/inject/patch.js';

/**
 * Applies the subset of RFC 6902 the injector emits (add, replace, remove, test) to a copy of
 * a document: what the apiserver does with our patch, so tests check the patched pod rather
 * than the list of operations. Test-only (no JSON Patch library is installed); the engine
 * only emits patches.
 */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  const root = structuredClone(doc) as unknown;
  for (const op of ops) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw new Error(`bad path ${op.path}`);
    let parent = root as Record<string, unknown> | unknown[];
    for (const p of parts) {
      const next = (parent as Record<string, unknown>)[p];
      if (typeof next !== 'object' || next === null) throw new Error(`path ${op.path}: ${p} does not exist`);
      parent = next as Record<string, unknown>;
    }
    if (op.op === 'test') {
      if (JSON.stringify((parent as Record<string, unknown>)[last]) !== JSON.stringify(op.value))
        throw new Error(`test failed at ${op.path}`);
    } else if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(i, 0, op.value);
      else if (op.op === 'replace') parent[i] = op.value;
      else parent.splice(i, 1);
    } else if (op.op === 'remove') {
      delete parent[last];
    } else {
      if (op.op === 'replace' && !(last in parent)) throw new Error(`replace at missing ${op.path}`);
      parent[last] = op.value;
    }
  }
  return root as T;
}
