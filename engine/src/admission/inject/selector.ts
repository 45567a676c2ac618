/**
 * Kubernetes label selector semantics (matchLabels AND matchExpressions; an empty selector
 * matches everything), for the pure matching in the injector. Selectors are compiled once
 * per policy set, not per pod.
 */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Labels = Readonly<Record<string, string>> | undefined;
export type CompiledSelector = (labels: Labels) => boolean;

const matchAll: CompiledSelector = () => true;

export function compileSelector(sel: LabelSelector | undefined): CompiledSelector {
  if (!sel) return matchAll;
  const tests: CompiledSelector[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) tests.push((l) => l?.[k] === v);
  for (const r of sel.matchExpressions ?? []) {
    const values = new Set(r.values ?? []);
    switch (r.operator) {
      case 'In':
        tests.push((l) => l?.[r.key] !== undefined && values.has(l[r.key]!));
        break;
      case 'NotIn':
        tests.push((l) => l?.[r.key] === undefined || !values.has(l[r.key]!));
        break;
      case 'Exists':
        tests.push((l) => l?.[r.key] !== undefined);
        break;
      case 'DoesNotExist':
        tests.push((l) => l?.[r.key] === undefined);
        break;
      default:
        // An operator we do not know matches nothing: never inject on a selector we can't read.
        tests.push(() => false);
    }
  }
  if (tests.length === 0) return matchAll;
  return (labels) => tests.every((t) => t(labels));
}

export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}
