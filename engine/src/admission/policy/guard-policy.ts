import { GROUP } from '../../core/api/index.js';
import { DEFAULT_CLEANUP_USERNAMES, SOURCE_ANNOTATIONS, type GuardConfig } from '../guard/guard.js';
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

export function buildGuardPolicy(
  cfg: GuardConfig,
  opts: { name: string },
): { policy: ValidatingAdmissionPolicy; binding: ValidatingAdmissionPolicyBinding } {
  const cleanup = cfg.cleanupUsernames ?? DEFAULT_CLEANUP_USERNAMES;
  const ann = (key: string): string =>
    `has(${V('obj')}.metadata.annotations) && ${str(key)} in ${V('obj')}.metadata.annotations ? ` +
    `${V('obj')}.metadata.annotations[${str(key)}]`;
  const fromSpec = (field: 'url' | 'path'): string =>
    `request.kind.kind == "PolicySource" && has(${V('obj')}.spec) && has(${V('obj')}.spec.${field}) ? string(${V('obj')}.spec.${field})`;
  const repo = `${ann(SOURCE_ANNOTATIONS.repo)} : ${fromSpec('url')} : ${str(cfg.defaultSource?.repo ?? '<policy repository>')}`;
  const path = `${ann(SOURCE_ANNOTATIONS.path)} : ${fromSpec('path')} : ${str(cfg.defaultSource?.path ?? 'policies/')}`;
  const name =
    `has(request.name) && request.name != "" ? request.name : ` +
    `(object != null && has(object.metadata.name) ? object.metadata.name : ` +
    `(oldObject != null && has(oldObject.metadata.name) ? oldObject.metadata.name : ""))`;
  const target = `("Quarantine " + (request.namespace != "" ? request.namespace + "/" : "") + ${V('name')}).trim()`;
  const labels = { ...WEBHOOK_LABELS };
  return {
    policy: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: opts.name, labels },
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
        variables: [
          { name: 'user', expression: 'has(request.userInfo.username) ? request.userInfo.username : ""' },
          { name: 'groups', expression: 'has(request.userInfo.groups) ? request.userInfo.groups : []' },
          // The stored object says where it came from; a CREATE only has the new one.
          { name: 'obj', expression: 'oldObject != null ? oldObject : object' },
          { name: 'name', expression: name },
          {
            name: 'allowed',
            expression:
              `${V('user')} in ${list(cfg.engineUsernames)} || ` +
              `(request.operation == "DELETE" && ${V('user')} in ${list(cleanup)}) || ` +
              `(request.kind.kind != "Quarantine" && ${V('groups')}.exists(g, g in ${list(cfg.breakGlassGroups)}))`,
          },
        ],
        validations: [
          {
            expression: V('allowed'),
            messageExpression:
              `request.kind.kind == "Quarantine" ? ${target} + ` +
              `" is written only by the Bulkhead engine; to release a pod, revert its record in git" : ` +
              `"managed in git: " + (${repo}) + " " + (${path}) + "; change it there"`,
            reason: 'Forbidden',
          },
        ],
      },
    },
    binding: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: opts.name, labels },
      spec: { policyName: opts.name, validationActions: ['Deny'] },
    },
  };
}
