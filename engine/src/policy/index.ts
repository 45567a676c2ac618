// The policy stage: load a checkout's policies with limits, validate them (schema + semantics),
// and locate every problem at file:line:col.
export { loadPolicyDir, isValid, type LoadResult, type LoadedPolicy } from './load-policy-dir.js';
export { renderPolicies, renderPolicy } from './render.js';
export { analyzePolicyFile, type FileAnalysis } from './policy-file.js';
export { CODES, sortDiagnostics, isError, type Diagnostic, type DiagnosticCode, type Severity } from './diagnostic.js';
export { DEFAULT_LIMITS, type LoaderLimits } from './limits.js';
export { selectorsCanAllMatch } from './semantic/selectors.js';
