// The one boundary where js-yaml's exceptions become Bulkhead codes. js-yaml reports a reason
// string and a mark, nothing typed, so matching its reason happens here and nowhere else; the
// tests pin each class so a js-yaml upgrade that rewords a reason fails loudly.
import { YAMLException } from 'js-yaml';
import type { DiagnosticCode } from './diagnostic.js';

export interface YamlFailure {
  code: DiagnosticCode;
  message: string;
  hint?: string;
  /** 1-based, when js-yaml gave a mark. */
  line?: number;
  column?: number;
}

const CLASSES: [RegExp, DiagnosticCode, string | undefined][] = [
  [/nesting exceeded maxDepth/, 'BH_YAML_DEPTH', 'flatten the document; policies never need this much nesting'],
  [/duplicated mapping key/, 'BH_YAML_DUPLICATE_KEY', 'remove one of the two keys'],
  [/unknown (scalar |sequence |mapping )?tag|unknown tag/, 'BH_YAML_TAG', 'policies use plain YAML: remove the !tag'],
  [/alias/, 'BH_YAML_SYNTAX', undefined],
];

export function classifyYamlError(err: unknown): YamlFailure | null {
  if (!(err instanceof YAMLException)) return null;
  const [, code, hint] = CLASSES.find(([re]) => re.test(err.reason)) ?? [null, 'BH_YAML_SYNTAX' as const, undefined];
  return {
    code,
    message: err.reason,
    ...(hint ? { hint } : {}),
    ...(err.mark ? { line: err.mark.line + 1, column: err.mark.column + 1 } : {}),
  };
}
