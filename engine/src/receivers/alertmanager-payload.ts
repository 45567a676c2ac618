import type { ExternalVerdict } from '../quarantine/index.js';
import { actionOf, camelReason, clip, DNS_NAME, type Mapped } from './pod-alert.js';

/** At most this many alerts of one notification are turned into verdicts; the rest are skipped (and said so). */
export const MAX_ALERTS_PER_NOTIFICATION = 100;

/**
 * Alertmanager's webhook notification (version "4"), the fields this receiver reads.
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 */
interface Notification {
  version?: unknown;
  status?: unknown;
  alerts?: unknown;
  commonAnnotations?: unknown;
}

interface Alert {
  status?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  startsAt?: unknown;
  generatorURL?: unknown;
  fingerprint?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Pure: an Alertmanager notification → one verdict per firing alert that names a pod by its
 * `namespace` and `pod` labels (the labels kube-state-metrics and cAdvisor series carry, so a
 * rule on them keeps them). Resolved alerts, alerts naming no pod and a second alert for the
 * same pod are skipped with the reason; release stays the policy's (releaseAfter), never an
 * alert's resolution. Optional labels `bulkhead_action` (capped at the policy's later) and
 * `bulkhead_policy` (must select the pod) steer the verdict as the verdict API's fields do.
 */
export function mapAlertmanagerNotification(
  body: unknown,
): { ok: true; alerts: Mapped[] } | { ok: false; error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, error: 'must be an Alertmanager webhook notification (a JSON object)' };
  const n = body as Notification;
  if (n.version !== '4')
    return { ok: false, error: `unsupported notification version ${JSON.stringify(n.version)} (want "4")` };
  if (!Array.isArray(n.alerts)) return { ok: false, error: 'alerts must be an array' };
  const seen = new Set<string>();
  const out: Mapped[] = [];
  n.alerts.forEach((raw: unknown, i) => {
    if (i >= MAX_ALERTS_PER_NOTIFICATION) {
      out.push({ skipped: `alert ${i}: past the ${MAX_ALERTS_PER_NOTIFICATION} alerts one notification may carry` });
      return;
    }
    const a = (typeof raw === 'object' && raw !== null ? raw : {}) as Alert;
    const labels = typeof a.labels === 'object' && a.labels !== null ? a.labels : {};
    const annotations = typeof a.annotations === 'object' && a.annotations !== null ? a.annotations : {};
    if (a.status !== 'firing') {
      out.push({ skipped: `alert ${i}: ${str(a.status) ?? 'no status'}, not firing` });
      return;
    }
    const namespace = str(labels.namespace);
    const pod = str(labels.pod);
    if (
      !namespace ||
      !pod ||
      namespace.length > 63 ||
      pod.length > 253 ||
      !DNS_NAME.test(namespace) ||
      !DNS_NAME.test(pod)
    ) {
      out.push({ skipped: `alert ${i}: names no pod (labels namespace and pod)` });
      return;
    }
    if (seen.has(`${namespace}/${pod}`)) {
      out.push({ skipped: `alert ${i}: pod ${namespace}/${pod} already named by an earlier alert` });
      return;
    }
    seen.add(`${namespace}/${pod}`);
    const alertname = str(labels.alertname);
    const summary = str(annotations.summary) ?? str(annotations.description) ?? str(annotations.message);
    const action = actionOf(labels.bulkhead_action);
    const policy = str(labels.bulkhead_policy);
    const startsAt = str(a.startsAt);
    const evidence: NonNullable<ExternalVerdict['evidence']> = [
      {
        ...(startsAt && !Number.isNaN(Date.parse(startsAt)) ? { time: startsAt } : {}),
        detail: clip(
          `alert ${alertname ?? '(unnamed)'} firing${str(a.fingerprint) ? ` (fingerprint ${str(a.fingerprint)})` : ''}`,
          1024,
        ),
      },
    ];
    const source = str(a.generatorURL);
    if (source) evidence.push({ detail: clip(`source: ${source}`, 1024) });
    out.push({
      verdict: {
        namespace,
        pod,
        reason: camelReason(alertname, 'AlertmanagerAlert'),
        message: clip(
          summary ? `${alertname ?? 'alert'}: ${summary}` : `Alertmanager alert ${alertname ?? ''} firing`.trim(),
          1024,
        ),
        ...(action ? { action } : {}),
        ...(policy && policy.length <= 253 ? { policy } : {}),
        evidence,
      },
      threat: false,
    });
  });
  return { ok: true, alerts: out };
}
