import { ANNOTATION, GROUP } from '../../core/api/index.js';
import { DEFAULT_CLEANUP_USERNAMES, SOURCE_ANNOTATIONS, type GuardConfig } from '../guard/guard.js';
import { writersSentence } from '../guard/writers.js';
import { GUARDED_RESOURCES, WEBHOOK_LABELS } from '../webhook-config.js';
import { list, str } from './cel.js';

/**
 * The GitOps guard as a ValidatingAdmissionPolicy (pure): guard.ts decideGuard in CEL, run by
 * the apiserver itself, so it holds with the engine down. Same writers, same refusals, same
 * messages (the apiserver prefixes its own "ValidatingAdmissionPolicy 'bulkhead-guard' with
 * binding ... denied request:" where the webhook path says "admission webhook ... denied the
 * request:"). Break-glass turns the binding's action from Deny to Warn (break-glass.ts).
 */
export interface ValidatingAdmissionPolicy {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicy';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    failurePolicy: 'Fail' | 'Ignore';
    matchConstraints: {
      resourceRules: {
        apiGroups: string[];
        apiVersions: string[];
        operations: string[];
        resources: string[];
        scope: '*';
      }[];
      matchPolicy: 'Equivalent';
    };
    variables: { name: string; expression: string }[];
    validations: { expression: string; messageExpression: string; reason: 'Forbidden' }[];
  };
}

export interface ValidatingAdmissionPolicyBinding {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicyBinding';
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { policyName: string; validationActions: ('Deny' | 'Warn' | 'Audit')[] };
}

const V = (name: string): string => `variables.${name}`;
const FLUX = { name: 'kustomize.toolkit.fluxcd.io/name', namespace: 'kustomize.toolkit.fluxcd.io/namespace' };
const ARGO_TRACKING = 'argocd.argoproj.io/tracking-id';

/**
 * guard.ts decideGuard in CEL. `cfg.defaultSource` stands for the engine's PolicySources, which
 * the webhook reads when it denies: here they are read when the policy is generated.
 */
export function buildGuardPolicy(
  cfg: GuardConfig,
  opts: { name: string },
): { policy: ValidatingAdmissionPolicy; binding: ValidatingAdmissionPolicyBinding } {
  const cleanup = cfg.cleanupUsernames ?? DEFAULT_CLEANUP_USERNAMES;
  const writers = cfg.gitopsWriters ?? [];
  const has = (map: string, key: string): string => `(has(${map}) && ${str(key)} in ${map})`;
  const ann = (key: string): string => `${V('obj')}.metadata.annotations[${str(key)}]`;
  const label = (key: string): string => `${V('obj')}.metadata.labels[${str(key)}]`;
  const anns = `${V('obj')}.metadata.annotations`;
  const labels = `${V('obj')}.metadata.labels`;
  const fallback = cfg.defaultSource;
  // The source as guard.ts sourceOf reads it; "" is absent.
  const ownSpec = (field: 'url' | 'path'): string =>
    `request.kind.kind == "PolicySource" && ${V('appliedBy')} == "" && has(${V('obj')}.spec) && has(${V('obj')}.spec.${field}) ? string(${V('obj')}.spec.${field})`;
  const sourceFile =
    `(${ann(ANNOTATION.source)}.matches(":[0-9]+$") ? ` +
    `${ann(ANNOTATION.source)}.substring(0, ${ann(ANNOTATION.source)}.lastIndexOf(":")) : ${ann(ANNOTATION.source)})`;
  // Absent request fields (namespace of a cluster-scoped object, name of a generateName create)
  // are errors to read in CEL, not empty strings: has() first.
  const target = `(request.kind.kind + " " + (has(request.namespace) && request.namespace != "" ? request.namespace + "/" : "") + ${V('name')}).trim()`;
  const variables = [
    { name: 'user', expression: 'has(request.userInfo.username) ? request.userInfo.username : ""' },
    { name: 'groups', expression: 'has(request.userInfo.groups) ? request.userInfo.groups : []' },
    { name: 'sub', expression: 'has(request.subResource) ? request.subResource : ""' },
    // The stored object says where it came from; a CREATE only has the new one.
    { name: 'obj', expression: 'oldObject != null ? oldObject : object' },
    {
      name: 'name',
      expression:
        'has(request.name) && request.name != "" ? request.name : ' +
        '(object != null && has(object.metadata.name) ? object.metadata.name : ' +
        '(oldObject != null && has(oldObject.metadata.name) ? oldObject.metadata.name : ""))',
    },
    {
      name: 'allowed',
      expression:
        `${V('user')} in ${list(cfg.engineUsernames)} || ` +
        `(request.operation == "DELETE" && ${V('user')} in ${list(cleanup)}) || ` +
        `(request.kind.kind != "Quarantine" && ${V('groups')}.exists(g, g in ${list(cfg.breakGlassGroups)})) || ` +
        `(request.kind.kind != "Quarantine" && ${V('user')} in ${list(writers)} && ${V('sub')} == "")`,
    },
    {
      name: 'appliedBy',
      expression:
        `${has(labels, FLUX.name)} && ${label(FLUX.name)} != "" ? "Flux Kustomization " + ` +
        `(${has(labels, FLUX.namespace)} && ${label(FLUX.namespace)} != "" ? ${label(FLUX.namespace)} + "/" : "") + ${label(FLUX.name)} : ` +
        `${has(anns, ARGO_TRACKING)} && ${ann(ARGO_TRACKING)} != "" ? "Argo CD Application " + ${ann(ARGO_TRACKING)}.split(":")[0] : ""`,
    },
    {
      name: 'repo',
      expression:
        `${has(anns, SOURCE_ANNOTATIONS.repo)} ? ${ann(SOURCE_ANNOTATIONS.repo)} : ${ownSpec('url')} : ` +
        `${V('appliedBy')} == "" ? ${str(fallback?.repo ?? '')} : ""`,
    },
    {
      name: 'path',
      expression:
        `${has(anns, SOURCE_ANNOTATIONS.path)} ? ${ann(SOURCE_ANNOTATIONS.path)} : ` +
        `${has(anns, ANNOTATION.source)} ? ${sourceFile} : ${ownSpec('path')} : ` +
        `!(${has(anns, SOURCE_ANNOTATIONS.repo)} && ${ann(SOURCE_ANNOTATIONS.repo)} != "") && ${V('appliedBy')} == "" ? ${str(fallback?.path ?? '')} : ""`,
    },
  ];
  const managedInGit =
    `"managed in git" + ` +
    `(${V('repo')} != "" ? ": " + ${V('repo')} + (${V('path')} != "" ? " " + ${V('path')} : "") : "") + ` +
    `(${V('appliedBy')} != "" ? " (applied by " + ${V('appliedBy')} + ")" : "") + ` +
    `(${V('repo')} == "" && ${V('appliedBy')} == "" ? " (the object names no source repository)" : "") + ` +
    `${str(`; change it there; ${writersSentence(cfg, 'HealthPolicy')}`)}`;
  const message =
    `request.kind.kind != "Quarantine" && ${V('user')} in ${list(writers)} ? ` +
    `${target} + " " + ${V('sub')} + " is written only by the Bulkhead engine; GitOps writers apply the object itself" : ` +
    `request.kind.kind == "Quarantine" ? ${target} + ` +
    `${str(`is written only by the Bulkhead engine; to release a pod, revert its record in git; ${writersSentence(cfg, 'Quarantine')}`).replace(/^"/, '" ')} : ` +
    managedInGit;
  const labelsOut = { ...WEBHOOK_LABELS };
  return {
    policy: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: opts.name, labels: labelsOut },
      spec: {
        // Fail closed: if the guard cannot answer, nobody edits around git.
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [GROUP],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE', 'DELETE'],
              resources: GUARDED_RESOURCES.flatMap((r) => [r, `${r}/status`]),
              scope: '*',
            },
          ],
          matchPolicy: 'Equivalent',
        },
        variables,
        validations: [{ expression: V('allowed'), messageExpression: message, reason: 'Forbidden' }],
      },
    },
    binding: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: opts.name, labels: labelsOut },
      spec: { policyName: opts.name, validationActions: ['Deny'] },
    },
  };
}
