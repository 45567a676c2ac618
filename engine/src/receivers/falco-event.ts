import type { ActionType } from '../quarantine/index.js';
import { camelReason, clip, DNS_NAME, type Mapped } from './pod-alert.js';

/** Falco priorities, most severe first (falcosidekick sends them capitalised). */
const PRIORITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'];

/**
 * Pure: one Falcosidekick webhook event (Falco's JSON output: rule, priority, output,
 * output_fields) → a verdict about the pod in `k8s.ns.name`/`k8s.pod.name`. A Falco event
 * is about compromise, so the signal is a threat (never released by hysteresis alone). An
 * event below Error priority (Warning, Notice, …) asks for `Alert` only, whatever the policy
 * allows: a shell spawned in a container is worth isolating, a notice is worth an Event.
 * Falcosidekick's own `minimumpriority` filters before this.
 */
export function mapFalcoEvent(body: unknown): { ok: true; mapped: Mapped } | { ok: false; error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, error: 'must be a Falcosidekick event (a JSON object)' };
  const e = body as Record<string, unknown>;
  if (typeof e.rule !== 'string' || e.rule === '') return { ok: false, error: 'rule must be a string' };
  const fields = (typeof e.output_fields === 'object' && e.output_fields !== null ? e.output_fields : {}) as Record<
    string,
    unknown
  >;
  const namespace = fields['k8s.ns.name'];
  const pod = fields['k8s.pod.name'];
  if (
    typeof namespace !== 'string' ||
    typeof pod !== 'string' ||
    namespace.length > 63 ||
    pod.length > 253 ||
    !DNS_NAME.test(namespace) ||
    !DNS_NAME.test(pod)
  )
    return { ok: true, mapped: { skipped: 'names no pod (output_fields k8s.ns.name and k8s.pod.name)' } };
  const priority = typeof e.priority === 'string' ? e.priority.toLowerCase() : '';
  const rank = PRIORITIES.indexOf(priority);
  const action: ActionType | undefined = rank < 0 || rank > PRIORITIES.indexOf('error') ? 'Alert' : undefined;
  const time = typeof e.time === 'string' && !Number.isNaN(Date.parse(e.time)) ? e.time : undefined;
  const output = typeof e.output === 'string' ? e.output : e.rule;
  return {
    ok: true,
    mapped: {
      verdict: {
        namespace,
        pod,
        reason: camelReason(e.rule, 'FalcoEvent'),
        message: clip(`Falco ${priority || 'event'}: ${e.rule}`, 1024),
        ...(action ? { action } : {}),
        evidence: [{ ...(time ? { time } : {}), detail: clip(output, 1024) }],
      },
      threat: true,
    },
  };
}
