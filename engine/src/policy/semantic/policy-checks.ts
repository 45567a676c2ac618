// Checks a schema cannot express, on a document that already passed the schema (so the
// shapes below hold). Each returns issues located by JSON pointer.
import type { DetectRule, HealthPolicy } from '../../core/api/index.js';
import { parseDuration } from '../../core/duration.js';
import { escapePointer } from '../yaml-documents.js';
import type { SemanticIssue } from './issue.js';
import { labelKeyProblem, labelValueProblem } from './labels.js';
import { checkSelector } from './selectors.js';

/** Namespaces Bulkhead never acts in, whatever a policy says. */
export const PROTECTED_NAMESPACES = ['kube-system'];

const SECOND = 1000;
const HOUR = 3600 * SECOND;

const ms = (d: string | undefined): number | undefined => {
  if (d === undefined) return undefined;
  try {
    return parseDuration(d);
  } catch {
    return undefined;
  }
};

function checkDurations(p: HealthPolicy): SemanticIssue[] {
  const out: SemanticIssue[] = [];
  const issue = (pointer: string, message: string, hint?: string): void => {
    out.push({ severity: 'error', code: 'BH_DURATION', message, ...(hint ? { hint } : {}), pointer, at: 'value' });
  };
  const probe = p.spec.probe;
  const interval = ms(probe.interval) ?? 10 * SECOND;
  const timeout = ms(probe.timeout) ?? 2 * SECOND;
  if (probe.interval !== undefined && (interval < SECOND || interval > HOUR))
    issue('/spec/probe/interval', `probe interval ${probe.interval} must be between 1s and 1h`);
  if (probe.timeout !== undefined && timeout < 100)
    issue('/spec/probe/timeout', `probe timeout ${probe.timeout} must be at least 100ms`);
  if (timeout >= interval) {
    issue(
      probe.timeout !== undefined ? '/spec/probe/timeout' : '/spec/probe/interval',
      `probe timeout (${probe.timeout ?? '2s'}) must be shorter than the interval (${probe.interval ?? '10s'})`,
      'probes would overlap',
    );
  }
  p.spec.detect.rules.forEach((r, i) => {
    const window = ms(r.window);
    if (window !== undefined && window < interval)
      issue(
        `/spec/detect/rules/${i}/window`,
        `window ${r.window} is shorter than the probe interval (${probe.interval ?? '10s'}): it would never hold a sample`,
      );
    if (window !== undefined && window > 24 * HOUR)
      issue(`/spec/detect/rules/${i}/window`, `window ${r.window} is longer than 24h`, 'windows are kept in memory');
    const latency = ms(r.latency);
    if (latency !== undefined && latency === 0)
      issue(`/spec/detect/rules/${i}/latency`, 'latency threshold must be above 0');
  });
  const release = ms(p.spec.action.releaseAfter);
  if (release !== undefined && release < 60 * SECOND)
    issue(
      '/spec/action/releaseAfter',
      `releaseAfter ${p.spec.action.releaseAfter} is under 1m`,
      'a pod released this fast would flap',
    );
  return out;
}

/** Which fields each detector needs; the schema cannot say "if type is X then Y is required". */
const RULE_NEEDS: Record<DetectRule['type'], (keyof DetectRule)[]> = {
  ConsecutiveFailures: ['threshold'],
  ErrorRate: ['ratio', 'window'],
  LatencyP99: ['latency', 'window'],
  Restarts: ['threshold', 'window'],
  CrashLoop: [],
  OOMKilled: [],
};

function checkRules(p: HealthPolicy): SemanticIssue[] {
  const out: SemanticIssue[] = [];
  p.spec.detect.rules.forEach((r, i) => {
    for (const field of RULE_NEEDS[r.type]) {
      if (r[field] === undefined) {
        out.push({
          severity: 'error',
          code: 'BH_DETECT_RULE',
          message: `a rule of type ${r.type} needs "${field}"`,
          hint: `${r.type} uses: ${RULE_NEEDS[r.type].join(', ')}`,
          pointer: `/spec/detect/rules/${i}`,
          at: 'value',
        });
      }
    }
  });
  return out;
}

function checkPort(port: number | string, pointer: string): SemanticIssue[] {
  if (typeof port === 'number') {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      return [
        { severity: 'error', code: 'BH_PORT', message: `port ${port} is out of range 1-65535`, pointer, at: 'value' },
      ];
    return [];
  }
  // IANA_SVC_NAME, as a container port name.
  if (!/^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(port) || !/[a-z]/.test(port) || port.includes('--')) {
    return [
      {
        severity: 'error',
        code: 'BH_PORT',
        message: `port "${port}" is neither a number nor a valid port name`,
        hint: 'a port name is 1-15 lowercase letters, digits and "-", with at least one letter',
        pointer,
        at: 'value',
      },
    ];
  }
  return [];
}

function checkBudget(p: HealthPolicy): SemanticIssue[] {
  const v = p.spec.action.budget?.maxUnavailable;
  const pointer = '/spec/action/budget/maxUnavailable';
  if (v === undefined) return [];
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0)
      return [
        {
          severity: 'error',
          code: 'BH_BUDGET',
          message: `maxUnavailable ${v} must be a whole number of pods, 0 or more`,
          pointer,
          at: 'value',
        },
      ];
    if (v === 0)
      return [
        {
          severity: 'warning',
          code: 'BH_BUDGET',
          message: 'maxUnavailable 0 means the policy can never act',
          pointer,
          at: 'value',
        },
      ];
    return [];
  }
  const m = /^(\d{1,3})%$/.exec(v);
  if (!m || Number(m[1]) > 100)
    return [
      {
        severity: 'error',
        code: 'BH_BUDGET',
        message: `maxUnavailable "${v}" must be a count or a percentage from 0% to 100%`,
        hint: 'e.g. 1 or "25%"',
        pointer,
        at: 'value',
      },
    ];
  if (Number(m[1]) === 100)
    return [
      {
        severity: 'warning',
        code: 'BH_BUDGET',
        message: 'maxUnavailable 100% lets the policy take a whole workload down',
        pointer,
        at: 'value',
      },
    ];
  return [];
}

function checkForward(p: HealthPolicy): SemanticIssue[] {
  const out: SemanticIssue[] = [];
  (p.spec.forward ?? []).forEach((f, i) => {
    const pointer = `/spec/forward/${i}/url`;
    let url: URL | undefined;
    try {
      url = new URL(f.url);
    } catch {
      out.push({ severity: 'error', code: 'BH_FORWARD_URL', message: `"${f.url}" is not a URL`, pointer, at: 'value' });
      return;
    }
    if (url.protocol !== 'https:')
      out.push({
        severity: 'error',
        code: 'BH_FORWARD_URL',
        message: `forward URL must use https, not ${url.protocol.replace(':', '')}`,
        hint: 'health data leaves the cluster: it must be encrypted',
        pointer,
        at: 'value',
      });
    if (url.username || url.password)
      out.push({
        severity: 'error',
        code: 'BH_FORWARD_URL',
        message: 'forward URL must not carry credentials',
        hint: 'put the token in a Secret and name it in secretRef',
        pointer,
        at: 'value',
      });
    for (const name of Object.keys(f.headers ?? {})) {
      if (/^(authorization|proxy-authorization|x-api-key|api-key|cookie)$/i.test(name)) {
        out.push({
          severity: 'warning',
          code: 'BH_SECRET_IN_HEADER',
          message: `header "${name}" looks like a credential committed to git`,
          hint: 'use secretRef instead',
          pointer: `/spec/forward/${i}/headers/${escapePointer(name)}`,
          at: 'key',
        });
      }
    }
  });
  return out;
}

function checkMatch(p: HealthPolicy): SemanticIssue[] {
  const m = p.spec.match;
  const out = [
    ...checkSelector(m.namespaceSelector, '/spec/match/namespaceSelector'),
    ...checkSelector(m.selector, '/spec/match/selector'),
  ];
  (m.namespaces ?? []).forEach((ns, i) => {
    if (PROTECTED_NAMESPACES.includes(ns)) {
      out.push({
        severity: 'warning',
        code: 'BH_PROTECTED_NAMESPACE',
        message: `namespace ${ns} is never acted on by Bulkhead`,
        hint: 'remove it from the list',
        pointer: `/spec/match/namespaces/${i}`,
        at: 'value',
      });
    }
  });
  return out;
}

function checkLabels(p: HealthPolicy): SemanticIssue[] {
  const out: SemanticIssue[] = [];
  for (const [k, v] of Object.entries(p.metadata.labels ?? {})) {
    const pointer = `/metadata/labels/${escapePointer(k)}`;
    const kp = labelKeyProblem(k);
    if (kp)
      out.push({ severity: 'error', code: 'BH_LABEL_KEY', message: `label key "${k}": ${kp}`, pointer, at: 'key' });
    const vp = v === undefined ? null : labelValueProblem(v);
    if (vp)
      out.push({
        severity: 'error',
        code: 'BH_LABEL_VALUE',
        message: `label value "${v}": ${vp}`,
        pointer,
        at: 'value',
      });
  }
  (p.spec.action.similar?.groupBy ?? []).forEach((k, i) => {
    const kp = labelKeyProblem(k);
    if (kp)
      out.push({
        severity: 'error',
        code: 'BH_LABEL_KEY',
        message: `groupBy key "${k}": ${kp}`,
        pointer: `/spec/action/similar/groupBy/${i}`,
        at: 'value',
      });
  });
  return out;
}

/** `similar` needs something to compare: without sharing or groupBy every pod would be "similar". */
const checkSimilar = (p: HealthPolicy): SemanticIssue[] => {
  const sim = p.spec.action.similar;
  if (!sim || (sim.sharing?.length ?? 0) + (sim.groupBy?.length ?? 0) > 0) return [];
  return [
    {
      severity: 'error',
      code: 'BH_SIMILAR_EMPTY',
      message: 'similar needs sharing (Image, Node, Owner) or groupBy label keys to say which pods are similar',
      hint: 'e.g. sharing: [Image]',
      pointer: '/spec/action/similar',
      at: 'key',
    },
  ];
};

const statusIgnored = (p: HealthPolicy): SemanticIssue[] =>
  p.status !== undefined
    ? [
        {
          severity: 'warning',
          code: 'BH_STATUS_IGNORED',
          message: 'status is written by the engine and is ignored here',
          hint: 'remove the status block',
          pointer: '/status',
          at: 'key',
        },
      ]
    : [];

/**
 * Each check with the parts of the document it reads. A check runs only when the schema found
 * nothing wrong within (or above) those parts, so it can rely on their shape, and an author
 * still sees the semantic problems of the other parts in the same run.
 */
const CHECKS: { scopes: string[]; run: (p: HealthPolicy) => SemanticIssue[] }[] = [
  { scopes: ['/metadata', '/spec/action/similar'], run: checkLabels },
  { scopes: ['/spec/match'], run: checkMatch },
  {
    scopes: ['/spec/probe'],
    run: (p) => [
      ...(p.spec.probe.http ? checkPort(p.spec.probe.http.port, '/spec/probe/http/port') : []),
      ...(p.spec.probe.tcp ? checkPort(p.spec.probe.tcp.port, '/spec/probe/tcp/port') : []),
    ],
  },
  { scopes: ['/spec/probe', '/spec/detect', '/spec/action'], run: checkDurations },
  { scopes: ['/spec/detect'], run: checkRules },
  { scopes: ['/spec/action'], run: checkBudget },
  { scopes: ['/spec/action/similar'], run: checkSimilar },
  { scopes: ['/spec/forward'], run: checkForward },
  { scopes: ['/status'], run: statusIgnored },
];

const related = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/**
 * Semantic issues of one policy. `broken` lists the JSON pointers where the schema found a
 * problem; checks that read those parts are skipped. With no `broken`, the whole document
 * passed the schema.
 */
export function checkPolicy(p: HealthPolicy, broken: readonly string[] = []): SemanticIssue[] {
  return CHECKS.filter((c) => !c.scopes.some((scope) => broken.some((b) => related(scope, b)))).flatMap((c) =>
    c.run(p),
  );
}
