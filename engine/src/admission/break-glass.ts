import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { WEBHOOK_LABEL_SELECTOR } from './webhook-config.js';

/**
 * `bulkhead break-glass on|off`: every Bulkhead webhook flips to failurePolicy Ignore (and
 * back), and the guard stops denying. The state lives on the configurations themselves
 * (annotations), so it is visible with kubectl and survives engine restarts; the original
 * failure policies are saved beside it and restored by `off`.
 */
export const BREAK_GLASS_ANNOTATION = 'bulkhead.dev/break-glass';
export const SAVED_POLICIES_ANNOTATION = 'bulkhead.dev/break-glass-saved';

export interface BreakGlassResult {
  changed: string[];
  unchanged: string[];
}

export interface Config {
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
  webhooks?: { name: string; failurePolicy?: string }[];
}

/** A ValidatingAdmissionPolicyBinding: the guard on the policy path (ADR 1700). */
export interface BindingConfig {
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { validationActions?: string[] };
}

const esc = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

/** The JSON patch that turns break-glass on or off on one configuration (undefined: already so). */
export function flipOps(cfg: Config, on: boolean): object[] | undefined {
  const ann = cfg.metadata?.annotations ?? {};
  const isOn = ann[BREAK_GLASS_ANNOTATION] === 'on';
  if (isOn === on) return undefined;
  const ops: object[] = [{ op: 'test', path: '/metadata/resourceVersion', value: cfg.metadata?.resourceVersion }];
  if (!cfg.metadata?.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
  const hooks = cfg.webhooks ?? [];
  if (on) {
    const saved = Object.fromEntries(hooks.map((w) => [w.name, w.failurePolicy ?? 'Fail']));
    ops.push({
      op: 'add',
      path: `/metadata/annotations/${esc(SAVED_POLICIES_ANNOTATION)}`,
      value: JSON.stringify(saved),
    });
    ops.push({ op: 'add', path: `/metadata/annotations/${esc(BREAK_GLASS_ANNOTATION)}`, value: 'on' });
    hooks.forEach((_, i) => ops.push({ op: 'add', path: `/webhooks/${i}/failurePolicy`, value: 'Ignore' }));
  } else {
    let saved: Record<string, string> = {};
    try {
      saved = JSON.parse(ann[SAVED_POLICIES_ANNOTATION] ?? '{}') as Record<string, string>;
    } catch {
      saved = {};
    }
    // A webhook with no saved policy goes back to its kind's default: Ignore for injection
    // (fail open), Fail for everything else.
    hooks.forEach((w, i) =>
      ops.push({
        op: 'add',
        path: `/webhooks/${i}/failurePolicy`,
        value: saved[w.name] ?? (w.name.endsWith('.inject.bulkhead.dev') ? 'Ignore' : 'Fail'),
      }),
    );
    if (ann[SAVED_POLICIES_ANNOTATION] !== undefined)
      ops.push({ op: 'remove', path: `/metadata/annotations/${esc(SAVED_POLICIES_ANNOTATION)}` });
    ops.push({ op: 'remove', path: `/metadata/annotations/${esc(BREAK_GLASS_ANNOTATION)}` });
  }
  return ops;
}

/**
 * The same switch on the guard's ValidatingAdmissionPolicyBinding: on turns its action from
 * Deny to Warn (the refusal's message still reaches the user, as a warning, and nothing is
 * refused), saving the actions it had; off restores them (Deny when none were saved).
 */
export function flipBindingOps(b: BindingConfig, on: boolean): object[] | undefined {
  const ann = b.metadata?.annotations ?? {};
  if ((ann[BREAK_GLASS_ANNOTATION] === 'on') === on) return undefined;
  // A Warn-only binding (the injection's warnings) refuses nothing: nothing to open.
  const actions = b.spec?.validationActions ?? [];
  if (on && actions.length > 0 && actions.every((a) => a === 'Warn')) return undefined;
  const ops: object[] = [{ op: 'test', path: '/metadata/resourceVersion', value: b.metadata?.resourceVersion }];
  if (!b.metadata?.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
  if (on) {
    ops.push({
      op: 'add',
      path: `/metadata/annotations/${esc(SAVED_POLICIES_ANNOTATION)}`,
      value: JSON.stringify({ validationActions: b.spec?.validationActions ?? ['Deny'] }),
    });
    ops.push({ op: 'add', path: `/metadata/annotations/${esc(BREAK_GLASS_ANNOTATION)}`, value: 'on' });
    ops.push({ op: 'add', path: '/spec/validationActions', value: ['Warn'] });
    return ops;
  }
  let saved: string[] = ['Deny'];
  try {
    const parsed = (JSON.parse(ann[SAVED_POLICIES_ANNOTATION] ?? '{}') as { validationActions?: unknown })
      .validationActions;
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((a) => typeof a === 'string')) saved = parsed;
  } catch {
    // Unreadable: the guard's own action.
  }
  ops.push({ op: 'add', path: '/spec/validationActions', value: saved });
  if (ann[SAVED_POLICIES_ANNOTATION] !== undefined)
    ops.push({ op: 'remove', path: `/metadata/annotations/${esc(SAVED_POLICIES_ANNOTATION)}` });
  ops.push({ op: 'remove', path: `/metadata/annotations/${esc(BREAK_GLASS_ANNOTATION)}` });
  return ops;
}

export async function setBreakGlass(kc: KubeConfig, on: boolean): Promise<BreakGlassResult> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const result: BreakGlassResult = { changed: [], unchanged: [] };
  const kinds: {
    kind: string;
    list: () => Promise<{ items: unknown[] }>;
    read: (name: string) => Promise<unknown>;
    patch: (name: string, body: object[]) => Promise<unknown>;
    flip?: (cfg: never, on: boolean) => object[] | undefined;
  }[] = [
    {
      kind: 'MutatingWebhookConfiguration',
      list: () => api.listMutatingWebhookConfiguration({ labelSelector: WEBHOOK_LABEL_SELECTOR }),
      read: (name: string) => api.readMutatingWebhookConfiguration({ name }),
      patch: (name: string, body: object[]) => api.patchMutatingWebhookConfiguration({ name, body }),
    },
    {
      kind: 'ValidatingWebhookConfiguration',
      list: () => api.listValidatingWebhookConfiguration({ labelSelector: WEBHOOK_LABEL_SELECTOR }),
      read: (name: string) => api.readValidatingWebhookConfiguration({ name }),
      patch: (name: string, body: object[]) => api.patchValidatingWebhookConfiguration({ name, body }),
    },
  ];
  // The policy path's guard, where the apiserver serves it (the injection policy already fails open).
  if (await servesAdmissionPolicies(api))
    kinds.push({
      kind: 'ValidatingAdmissionPolicyBinding',
      list: () => api.listValidatingAdmissionPolicyBinding({ labelSelector: WEBHOOK_LABEL_SELECTOR }),
      read: (name: string) => api.readValidatingAdmissionPolicyBinding({ name }),
      patch: (name: string, body: object[]) => api.patchValidatingAdmissionPolicyBinding({ name, body }),
      flip: flipBindingOps as (cfg: never, on: boolean) => object[] | undefined,
    });
  for (const k of kinds) {
    for (const item of (await k.list()).items as Config[]) {
      const name = item.metadata?.name ?? '';
      let cfg: Config = item;
      for (let attempt = 0; ; attempt++) {
        const ops = k.flip ? k.flip(cfg as never, on) : flipOps(cfg, on);
        if (!ops) {
          result.unchanged.push(`${k.kind}/${name}`);
          break;
        }
        try {
          await k.patch(name, ops);
          result.changed.push(`${k.kind}/${name}`);
          break;
        } catch (e) {
          const code = (e as { code?: number }).code;
          if ((code !== 409 && code !== 422) || attempt >= 4) throw e;
          cfg = (await k.read(name)) as Config;
        }
      }
    }
  }
  return result;
}

async function servesAdmissionPolicies(api: AdmissionregistrationV1Api): Promise<boolean> {
  const served = (await api.getAPIResources()).resources.map((r) => r.name);
  return served.includes('validatingadmissionpolicybindings');
}

/**
 * The guard's view of the switch: read from the ValidatingWebhookConfiguration, cached for
 * `ttlMs`. Only consulted when a write would be denied. A failed read counts as off (the
 * guard fails closed).
 */
export function breakGlassReader(
  kc: KubeConfig,
  validatingName: string,
  ttlMs = 1000,
  clock: () => number = Date.now,
): () => Promise<boolean> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  let cached: { value: boolean; at: number } | undefined;
  return async () => {
    const now = clock();
    if (cached && now - cached.at < ttlMs) return cached.value;
    let value: boolean;
    try {
      const cfg = await api.readValidatingWebhookConfiguration({ name: validatingName });
      value = cfg.metadata?.annotations?.[BREAK_GLASS_ANNOTATION] === 'on';
    } catch {
      value = false;
    }
    cached = { value, at: now };
    return value;
  };
}
