// The policy stage: load a checkout's policies with limits, validate them (schema + semantics),
// and locate every problem at file:line:col.
export { loadPolicyDir, isValid, type LoadResult, type LoadedPolicy } from './load-policy-dir.js';
export { renderPolicies } from './render.js';
export { CODES, isError, type Diagnostic, type DiagnosticCode } from './diagnostic.js';
