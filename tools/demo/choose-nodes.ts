/** A flag the demo cannot honour: exit 2 (usage), nothing started. */
export class DemoUsageError extends Error {}

/**
 * Which story to run: real nodes when the machine can run them (the real-node tier's own
 * check: root on Linux), kwok otherwise; `--kwok` / `--nodes kwok|real` force one.
 * Returns the choice and, when real nodes were not asked for but are unavailable, why.
 */
export function chooseNodes(
  o: { kwok?: boolean; nodes?: string },
  unsupported: string | undefined,
): { nodes: 'kwok' | 'real'; why?: string } {
  const asked = o.kwok ? 'kwok' : o.nodes;
  if (asked !== undefined && asked !== 'kwok' && asked !== 'real')
    throw new DemoUsageError(`--nodes ${asked}: expected kwok or real`);
  if (o.kwok && o.nodes === 'real') throw new DemoUsageError('--kwok and --nodes real contradict each other');
  if (asked === 'kwok') return { nodes: 'kwok' };
  if (asked === 'real') {
    if (unsupported) throw new DemoUsageError(unsupported);
    return { nodes: 'real' };
  }
  return unsupported ? { nodes: 'kwok', why: unsupported } : { nodes: 'real' };
}
