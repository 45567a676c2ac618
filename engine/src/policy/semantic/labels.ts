// Label keys and values exactly as Kubernetes validates them (apimachinery
// validation.IsQualifiedName / IsValidLabelValue), so a selector that passes here is one the
// apiserver accepts, and one that fails here would never match anything.
const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key, or null when it is. */
export function labelKeyProblem(key: string): string | null {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null) {
    if (prefix.length === 0) return 'the prefix before "/" is empty';
    if (prefix.length > 253) return 'the prefix is longer than 253 characters';
    if (!DNS_SUBDOMAIN.test(prefix))
      return `the prefix "${prefix}" is not a DNS subdomain (lowercase letters, digits, "-" and ".")`;
  }
  if (name.length === 0) return 'the name part is empty';
  if (name.length > 63) return 'the name part is longer than 63 characters';
  if (!NAME.test(name))
    return 'the name part must be letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  return null;
}

/** Why `value` is not a valid label value, or null when it is (empty is valid). */
export function labelValueProblem(value: string): string | null {
  if (value.length === 0) return null;
  if (value.length > 63) return 'longer than 63 characters';
  if (!NAME.test(value)) return 'must be letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  return null;
}
