import type { LabelSelector } from '../inject/selector.js';

/**
 * CEL text for the generated admission policies (pure). Everything that comes from a policy
 * or a flag enters CEL only through `str()` / `list()`: a quoted literal, never spliced code,
 * so a label value or a path cannot change what an expression does.
 */

/** A CEL string literal (double-quoted; backslash, quote and control characters escaped). */
export function str(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A CEL list of string literals. */
export const list = (items: readonly string[]): string => `[${items.map(str).join(', ')}]`;

/**
 * Kubernetes label selector semantics over a CEL map of labels (`labels`), as the injector's
 * compileSelector: matchLabels AND matchExpressions, empty matches everything, an operator we
 * do not know matches nothing.
 */
export function selectorExpr(sel: LabelSelector | undefined, labels: string): string {
  const terms: string[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {}))
    terms.push(`(${str(k)} in ${labels} && ${labels}[${str(k)}] == ${str(v)})`);
  for (const r of sel?.matchExpressions ?? []) {
    const k = str(r.key);
    const values = list(r.values ?? []);
    switch (r.operator) {
      case 'In':
        terms.push(`(${k} in ${labels} && ${labels}[${k}] in ${values})`);
        break;
      case 'NotIn':
        terms.push(`(!(${k} in ${labels}) || !(${labels}[${k}] in ${values}))`);
        break;
      case 'Exists':
        terms.push(`(${k} in ${labels})`);
        break;
      case 'DoesNotExist':
        terms.push(`!(${k} in ${labels})`);
        break;
      default:
        terms.push('false');
    }
  }
  return terms.length === 0 ? 'true' : terms.join(' && ');
}

/** JSON Pointer escaping of one path segment (RFC 6901), done here: the keys are constants. */
export const pointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');
