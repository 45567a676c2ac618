import { DEFAULT_HEALTH_PORT, HEALTH_PORT_ANNOTATION, HEALTH_PORT_SEARCH_END } from '../inject/health-port.js';
import { ANNOTATIONS } from '../inject/patch.js';
import { precedenceOrder } from '../inject/policy-index.js';
import { injectionPaused } from '../inject/pull-pause.js';
import type { InjectablePolicy } from '../inject/policy.js';
import {
  DEFAULT_SIDECAR_RESOURCES,
  SIDECAR_SECURITY_CONTEXT,
  type SidecarSettings,
} from '../inject/sidecar-container.js';
import {
  SIDECAR_CA_CONFIGMAP,
  SIDECAR_CA_PATH,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_ENV,
  SIDECAR_MOUNT_PATH,
  SIDECAR_NODE_OPTIONS,
  SIDECAR_TOKEN_AUDIENCE,
  SIDECAR_TOKEN_PATH,
  SIDECAR_VOLUME_NAME,
} from '../sidecar-env.js';
import { WEBHOOK_LABELS } from '../webhook-config.js';
import { list, pointer, selectorExpr, str } from './cel.js';
import { cel, celValue } from './cel-value.js';

/**
 * Injection as a MutatingAdmissionPolicy (admissionregistration.k8s.io/v1), generated from the
 * HealthPolicies (pure): the apiserver runs it in-process, so no network hop, no TLS, no
 * engine that can be down. It computes exactly what `decideInjection` + `buildPatch` compute
 * (a differential test holds the two to the same stored pod), as one JSONPatch:
 *
 * - policies are matched in the injector's precedence (most specific, then name): that order
 *   is static, so the generator sorts them and CEL only filters;
 * - the probe of each matching policy is resolved against the pod (named ports, fromPod, the
 *   main container), the first that resolves wins, the others are explained;
 * - a policy whose sidecar image pull is paused (ADR 1010) is skipped with the pause's reason,
 *   decided at generation time (the engine regenerates when the pause ends).
 */
export interface InjectionPolicyOptions {
  name: string;
  excludedNamespaces: readonly string[];
  sidecar: SidecarSettings;
  /** For the pull pause. */
  now: number;
}

export interface MutatingAdmissionPolicy {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'MutatingAdmissionPolicy';
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    failurePolicy: 'Ignore' | 'Fail';
    reinvocationPolicy: 'IfNeeded' | 'Never';
    matchConstraints: {
      resourceRules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[];
      namespaceSelector?: { matchExpressions: { key: string; operator: string; values: string[] }[] };
      matchPolicy: 'Equivalent';
    };
    matchConditions?: { name: string; expression: string }[];
    variables: { name: string; expression: string }[];
    mutations: { patchType: 'JSONPatch'; jsonPatch: { expression: string } }[];
  };
}

export interface MutatingAdmissionPolicyBinding {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'MutatingAdmissionPolicyBinding';
  metadata: { name: string; labels: Record<string, string> };
  spec: { policyName: string };
}

/**
 * The webhook's admission warning for a pod a policy matches but cannot inject (kubectl prints
 * it), as a Warn-only ValidatingAdmissionPolicy: a mutating policy cannot warn. It sees the pod
 * after the mutation, so an injected pod reads as "already injected" and gets none.
 */
export interface InjectionWarningPolicy {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicy';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    failurePolicy: 'Ignore';
    matchConstraints: MutatingAdmissionPolicy['spec']['matchConstraints'];
    matchConditions: { name: string; expression: string }[];
    variables: { name: string; expression: string }[];
    validations: { expression: string; messageExpression: string }[];
  };
}

export interface InjectionWarningBinding {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingAdmissionPolicyBinding';
  metadata: { name: string; labels: Record<string, string> };
  spec: { policyName: string; validationActions: ['Warn'] };
}

const V = (name: string): string => `variables.${name}`;
const NAME_LABEL = 'kubernetes.io/metadata.name';

/** A "bind" CEL lacks here: `body` sees `value` as `name` (a one-element comprehension). */
const bind = (name: string, value: string, body: string): string => `[${value}].map(${name}, ${body})[0]`;

/** JSON.stringify of a string, in CEL (what the webhook writes for BULKHEAD_PROBE_HEADERS). */
function jsonString(expr: string): string {
  let out = `${expr}.replace("\\\\", "\\\\\\\\").replace("\\"", "\\\\\\"")`;
  const short: Record<number, string> = { 8: 'b', 9: 't', 10: 'n', 12: 'f', 13: 'r' };
  for (let c = 0; c < 0x20; c++) {
    const from = `\\x${c.toString(16).padStart(2, '0')}`;
    const to = short[c] ? `\\\\${short[c]}` : `\\\\u00${c.toString(16).padStart(2, '0')}`;
    out += `.replace("${from}", "${to}")`;
  }
  return `"\\"" + ${out} + "\\""`;
}

/** An int-or-string port as the injector reads it: a number, a string of digits, or -1 (a name). */
const portNumber = (v: string): string =>
  `(type(${v}) == int ? int(${v}) : (string(${v}).matches("^[0-9]{1,9}$") ? int(string(${v})) : -1))`;

/** The resolved probe (probe-target.ts ResolvedProbe) as a CEL map of strings; "" is absent. */
const RESOLVED_KEYS = [
  'name',
  'err',
  'type',
  'port',
  'path',
  'scheme',
  'host',
  'headers',
  'service',
  'expect',
  'interval',
  'timeout',
] as const;
type ResolvedKey = (typeof RESOLVED_KEYS)[number];
const resolved = (fields: Partial<Record<ResolvedKey, string>>): string =>
  // string(): values read from the pod are typed dyn in places, and map literals must be homogeneous.
  `{${RESOLVED_KEYS.map((k) => `${str(k)}: ${k === 'name' ? 'p.name' : fields[k] === undefined ? '""' : `string(${fields[k]})`}`).join(', ')}}`;

/**
 * One policy as data for the resolver (map of strings, "" absent): its probe as the policy says
 * it (`kind` http | tcp | fromPod | none; a numeric port as digits) and, when its image pull is
 * paused, why. Data rather than code per policy: the apiserver limits an expression to 100,000
 * code points, and one resolver over a list of these stays the same size for any number of them.
 */
export function policyData(policy: InjectablePolicy, paused: string | undefined): Record<string, string> {
  const p = policy.spec.probe;
  return {
    name: policy.metadata.name,
    kind: p.http ? 'http' : p.tcp ? 'tcp' : p.fromPod ? 'fromPod' : 'none',
    port: String(p.http?.port ?? p.tcp?.port ?? ''),
    path: p.http?.path ?? '',
    container: p.container ?? '',
    interval: p.interval ?? '',
    timeout: p.timeout ?? '',
    expect: p.expectStatus && p.expectStatus.length > 0 ? p.expectStatus.join(',') : '',
    paused: paused ?? '',
  };
}

/**
 * An int-or-string port resolved against the pod (probe-target.ts resolvePort): a number or a
 * string of digits as is, a name from container `main` first, then from any container; "" when
 * the name is not declared. `then(port)` builds the result from the port.
 */
function withPort(portExpr: string, main: string, then: (port: string) => string): string {
  const named = (c: string): string =>
    `(has(${c}.ports) ? ${c}.ports.filter(x, has(x.name) && x.name == string(pv)) : [])`;
  const port = bind(
    'pv',
    portExpr,
    `${portNumber('pv')} >= 0 ? string(${portNumber('pv')}) : ` +
      bind(
        'f',
        `${named(main)} + ${V('containers')}.map(c, ${named('c')}).flatten()`,
        'f.size() > 0 ? string(f[0].containerPort) : ""',
      ),
  );
  return bind(
    'pt',
    port,
    `pt == "" ? ${resolved({ err: `"named port " + string(${portExpr}) + " not found in the pod"` })} : ${then('pt')}`,
  );
}

/** The probe of the policy `p` (policyData) resolved for this pod (probe-target.ts resolveProbe). */
function resolveExpr(): string {
  const interval = '(p.interval != "" ? p.interval : "10s")';
  const timeout = '(p.timeout != "" ? p.timeout : "2s")';
  const main = `(p.container != "" ? ${V('containers')}.filter(c, c.name == p.container) : ${V('containers')}.slice(0, 1))`;
  const policyProbe = (type: string, extra: Partial<Record<ResolvedKey, string>>): string =>
    withPort('p.port', 'm', (port) => resolved({ type, port, interval, timeout, ...extra }));
  // The pod's own probe timing applies unless the policy sets its own.
  const timing = {
    interval: `(p.interval != "" ? p.interval : has(rp.periodSeconds) && rp.periodSeconds != 0 ? string(rp.periodSeconds) + "s" : "10s")`,
    timeout: `(p.timeout != "" ? p.timeout : has(rp.timeoutSeconds) && rp.timeoutSeconds != 0 ? string(rp.timeoutSeconds) + "s" : "2s")`,
  };
  const headers =
    `(has(g.httpHeaders) && g.httpHeaders.size() > 0 ? "[" + g.httpHeaders.map(h, "{\\"name\\":" + ` +
    `${jsonString('h.name')} + ",\\"value\\":" + ${jsonString('(has(h.value) ? h.value : "")')} + "}").join(",") + "]" : "")`;
  const http = bind(
    'g',
    'rp.httpGet',
    bind(
      'scheme',
      '(has(g.scheme) ? g.scheme.upperAscii() : "HTTP")',
      withPort(
        'g.port',
        'm',
        (port) =>
          `scheme != "HTTP" && scheme != "HTTPS" ? ${resolved({
            err: '"readinessProbe scheme " + g.scheme + " is neither HTTP nor HTTPS"',
          })} : ${resolved({
            type: '"http"',
            port,
            path: '(has(g.path) && g.path != "" ? g.path : "/")',
            scheme: '(scheme == "HTTPS" ? "https" : "http")',
            host: '(has(g.host) ? g.host : "")',
            headers,
            expect: 'p.expect',
            ...timing,
          })}`,
      ),
    ),
  );
  const tcp = withPort('rp.tcpSocket.port', 'm', (port) =>
    resolved({ type: '"tcp"', port, host: '(has(rp.tcpSocket.host) ? rp.tcpSocket.host : "")', ...timing }),
  );
  const grpc = resolved({
    type: '"grpc"',
    port: 'rp.grpc.port',
    service: '(has(rp.grpc.service) ? rp.grpc.service : "")',
    ...timing,
  });
  const noProbe = resolved({ err: '"probe fromPod, but container " + m.name + " has no readinessProbe"' });
  const exec = resolved({
    err:
      `"probe fromPod, but container " + m.name + "'s readinessProbe is exec, which a sidecar cannot run ` +
      `(it would need to exec into the app container); give the policy an http, tcp or grpc probe"`,
  });
  const fromPod =
    `!has(m.readinessProbe) ? ${noProbe} : ` +
    bind(
      'rp',
      'm.readinessProbe',
      `has(rp.httpGet) && has(rp.httpGet.port) ? (${http}) : ` +
        `has(rp.tcpSocket) && has(rp.tcpSocket.port) ? (${tcp}) : ` +
        `has(rp.grpc) && has(rp.grpc.port) ? (${grpc}) : ` +
        `has(rp.exec) ? ${exec} : ${noProbe}`,
    );
  const body =
    // CEL's middle branch of `?:` cannot itself be a conditional: every branch in parentheses.
    `p.kind == "http" ? (${policyProbe('"http"', { path: 'p.path', expect: 'p.expect' })}) : ` +
    `p.kind == "tcp" ? (${policyProbe('"tcp"', {})}) : ` +
    `p.kind == "fromPod" ? (${fromPod}) : ${resolved({ err: '"policy has no probe"' })}`;
  return (
    `p.paused != "" ? (${resolved({ err: 'p.paused' })}) : ` +
    bind(
      'ms',
      main,
      `ms.size() == 0 ? ${resolved({ err: '"container " + p.container + " not found"' })} : ${bind('m', 'ms[0]', body)}`,
    )
  );
}

/** A map of strings as a CEL literal (homogeneous: no dyn() needed, and its values read as strings). */
const stringMap = (m: Record<string, string>): string =>
  `{${Object.entries(m)
    .map(([k, v]) => `${str(k)}: ${str(v)}`)
    .join(', ')}}`;

/** CEL's limit is 100,000 code points per expression: long lists go in several variables. */
const MAX_CHUNK = 60_000;
function chunked(prefix: string, items: readonly string[]): { name: string; expression: string }[] {
  const chunks: string[][] = [[]];
  let size = 0;
  for (const item of items) {
    if (size + item.length > MAX_CHUNK && chunks[chunks.length - 1]!.length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks[chunks.length - 1]!.push(item);
    size += item.length + 2;
  }
  const parts = chunks.map((c, i) => ({ name: `${prefix}${i}`, expression: `[${c.join(', ')}]` }));
  return [...parts, { name: prefix, expression: parts.map((c) => V(c.name)).join(' + ') }];
}

/**
 * The policies' data in small lists, read by index: the apiserver evaluates a variable only when
 * an expression reads it, so a pod builds the lists holding its matching policies and no other
 * (a pod CREATE must not pay for every policy's map; issue 17's bench).
 */
const LOOKUP_CHUNK = 16;
function chunkedLookup(
  prefix: string,
  items: readonly string[],
): { variables: { name: string; expression: string }[]; at: (index: string) => string } {
  const variables: { name: string; expression: string }[] = [];
  for (let start = 0; start < items.length; start += LOOKUP_CHUNK)
    variables.push({
      name: `${prefix}${variables.length}`,
      expression: `[${items.slice(start, start + LOOKUP_CHUNK).join(', ')}]`,
    });
  const at = (index: string): string =>
    variables
      .map((v, k) => ({ v, k }))
      .reverse()
      .reduce(
        (rest, { v, k }) =>
          rest === ''
            ? `${V(v.name)}[${index} - ${k * LOOKUP_CHUNK}]`
            : `${index} < ${(k + 1) * LOOKUP_CHUNK} ? ${V(v.name)}[${index} - ${k * LOOKUP_CHUNK}] : ${rest}`,
        '',
      );
  return { variables, at };
}

/** The matching part of a policy (policy-index.ts): named namespaces, namespace and pod selectors. */
function matchExpr(policy: InjectablePolicy): string {
  const m = policy.spec.match ?? {};
  const terms: string[] = [];
  if (m.namespaces && m.namespaces.length > 0) terms.push(`request.namespace in ${list([...new Set(m.namespaces)])}`);
  const ns = selectorExpr(m.namespaceSelector, V('nsLabels'));
  if (ns !== 'true') terms.push(`(${ns})`);
  const pod = selectorExpr(m.selector, V('labels'));
  if (pod !== 'true') terms.push(`(${pod})`);
  return terms.length === 0 ? 'true' : terms.join(' && ');
}

/** The sidecar's env (sidecar-container.ts), in the same order, from the resolved probe `r`. */
function envExpr(sidecar: SidecarSettings): string {
  const field = (name: string, fieldPath: string): unknown => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const value = (name: string, v: string): string => `dyn({"name": dyn(${str(name)}), "value": dyn(${v})})`;
  const optional = (name: string, key: ResolvedKey): string => `(r.${key} != "" ? [${value(name, `r.${key}`)}] : [])`;
  const fixed = (items: string[]): string => `[${items.join(', ')}]`;
  return [
    celValue([
      field(SIDECAR_ENV.podName, 'metadata.name'),
      field(SIDECAR_ENV.podNamespace, 'metadata.namespace'),
      field(SIDECAR_ENV.podUid, 'metadata.uid'),
      field(SIDECAR_ENV.podIp, 'status.podIP'),
    ]),
    fixed([value(SIDECAR_ENV.policy, 'name'), value(SIDECAR_ENV.probeType, 'r.type')]),
    optional(SIDECAR_ENV.probeScheme, 'scheme'),
    fixed([
      value(SIDECAR_ENV.probeHost, 'r.host != "" ? r.host : "127.0.0.1"'),
      value(SIDECAR_ENV.probePort, 'r.port'),
    ]),
    optional(SIDECAR_ENV.probePath, 'path'),
    optional(SIDECAR_ENV.probeHeaders, 'headers'),
    optional(SIDECAR_ENV.probeGrpcService, 'service'),
    optional(SIDECAR_ENV.probeExpectStatus, 'expect'),
    fixed([
      value(SIDECAR_ENV.probeInterval, 'r.interval'),
      value(SIDECAR_ENV.probeTimeout, 'r.timeout'),
      value(SIDECAR_ENV.reportUrl, str(sidecar.reportUrl)),
      value(SIDECAR_ENV.tokenPath, str(SIDECAR_TOKEN_PATH)),
      value(SIDECAR_ENV.caPath, str(SIDECAR_CA_PATH)),
      value(SIDECAR_ENV.healthPort, `string(${V('healthPort')})`),
      value('NODE_OPTIONS', str(SIDECAR_NODE_OPTIONS)),
    ]),
  ].join(' + ');
}

/** The injected container (sidecar-container.ts sidecarContainer), given `name` and `r`. */
function containerExpr(sidecar: SidecarSettings): string {
  const base = {
    name: SIDECAR_CONTAINER_NAME,
    image: sidecar.image,
    imagePullPolicy: sidecar.imagePullPolicy ?? 'IfNotPresent',
    restartPolicy: 'Always',
    env: cel(envExpr(sidecar)),
    resources: sidecar.resources ?? DEFAULT_SIDECAR_RESOURCES,
  };
  const tail = {
    volumeMounts: [{ name: SIDECAR_VOLUME_NAME, mountPath: SIDECAR_MOUNT_PATH, readOnly: true }],
    securityContext: SIDECAR_SECURITY_CONTEXT,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  const hp = V('healthPort');
  const withHealth = {
    ...base,
    ports: [{ name: 'bulkhead-health', containerPort: cel(hp), protocol: 'TCP' }],
    livenessProbe: {
      httpGet: { path: '/healthz', port: cel(hp) },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    },
    ...tail,
  };
  return `${hp} > 0 ? ${celValue(withHealth)} : ${celValue({ ...base, ...tail })}`;
}

/** health-port.ts chooseHealthPort: the annotation, none for hostNetwork, else the first free port. */
function healthPortExpr(): string {
  const a = str(HEALTH_PORT_ANNOTATION);
  const ann = V('ann');
  const probePorts = (c: string): string =>
    ['readinessProbe', 'livenessProbe', 'startupProbe']
      .flatMap((probe) =>
        ['httpGet', 'tcpSocket', 'grpc'].map(
          (action) =>
            `(has(${c}.${probe}) && has(${c}.${probe}.${action}) && has(${c}.${probe}.${action}.port) ? [${portNumber(`${c}.${probe}.${action}.port`)}] : [])`,
        ),
      )
      .join(' + ');
  const taken =
    `${V('all')}.map(c, (has(c.ports) ? c.ports.map(p, p.containerPort) + ` +
    `c.ports.filter(p, has(p.hostPort) && p.hostPort != 0).map(p, p.hostPort) : []) + ${probePorts('c')}).flatten()`;
  const range: number[] = [];
  for (let port = DEFAULT_HEALTH_PORT; port <= HEALTH_PORT_SEARCH_END; port++) range.push(port);
  return (
    `${a} in ${ann} && ${ann}[${a}].matches("^[0-9]{1,5}$") && int(${ann}[${a}]) <= 65535 ? int(${ann}[${a}]) : ` +
    `has(object.spec.hostNetwork) && object.spec.hostNetwork ? 0 : ` +
    bind(
      'taken',
      taken,
      bind('free', `[${range.join(', ')}].filter(p, !(p in taken))`, 'free.size() > 0 ? free[0] : 0'),
    )
  );
}

const JSON_PATCH = (op: string, path: string, value: string): string =>
  `JSONPatch{op: ${str(op)}, path: ${str(path)}, value: ${value}}`;

/** An empty list CEL types as list(JSONPatch), which a bare `[]` is not. */
const NO_PATCH = `[${JSON_PATCH('test', '/metadata', 'object.metadata')}].filter(x, false)`;

export function buildInjectionPolicy(
  policies: readonly InjectablePolicy[],
  opts: InjectionPolicyOptions,
): {
  policy: MutatingAdmissionPolicy;
  binding: MutatingAdmissionPolicyBinding;
  warning: { policy: InjectionWarningPolicy; binding: InjectionWarningBinding };
} {
  const excluded = new Set(opts.excludedNamespaces);
  // A policy naming only excluded namespaces can match nothing (as in the webhook rules).
  const usable = precedenceOrder(
    policies.filter(
      (p) => !(p.spec.match?.namespaces?.length && p.spec.match.namespaces.every((n) => excluded.has(n))),
    ),
  );
  const names = usable.map((p) => p.name);
  const sidecar = opts.sidecar;
  const volume = {
    name: SIDECAR_VOLUME_NAME,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: SIDECAR_TOKEN_AUDIENCE,
            expirationSeconds: sidecar.tokenExpirationSeconds ?? 3600,
            path: 'token',
          },
        },
        { configMap: { name: SIDECAR_CA_CONFIGMAP, optional: true, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      ],
    },
  };
  const injected = `"{\\"policy\\":\\"" + name + "\\",\\"sidecar\\":" + ${str(JSON.stringify(sidecar.version))} + "}"`;
  const explanation =
    `${V('res')}.size() > 1 ? ` +
    `"matched " + ${V('res')}.map(x, x.name).join(", ") + "; injected " + name + ` +
    `" (one sidecar per pod: most specific match, then name order)" + ` +
    `${V('res')}.transformList(j, x, j < ${V('chosen')} ? "; skipped " + x.name + ": " + x.err : "").join("") : ""`;
  const always = `${str(ANNOTATIONS.injected)}: ${injected}, ${str(ANNOTATIONS.admissionPath)}: "policy"`;
  const annotations = `why != "" ? {${always}, ${str(ANNOTATIONS.decision)}: why} : {${always}}`;
  const patch = [
    `(has(object.spec.initContainers) ? [${JSON_PATCH('add', '/spec/initContainers/-', 'container')}] : [${JSON_PATCH(
      'add',
      '/spec/initContainers',
      '[container]',
    )}])`,
    // A projected token needs a ServiceAccount (the ServiceAccount admission plugin's default).
    `((!has(object.spec.serviceAccountName) || object.spec.serviceAccountName == "") && ` +
      `(!has(object.spec.serviceAccount) || object.spec.serviceAccount == "") ? ` +
      `[${JSON_PATCH('add', '/spec/serviceAccountName', '"default"')}] : [])`,
    `(has(object.spec.volumes) ? [${JSON_PATCH('add', '/spec/volumes/-', celValue(volume))}] : [${JSON_PATCH(
      'add',
      '/spec/volumes',
      `[${celValue(volume)}]`,
    )}])`,
    `(has(object.metadata.annotations) ? ` +
      `[${JSON_PATCH('add', `/metadata/annotations/${pointer(ANNOTATIONS.injected)}`, `anns[${str(ANNOTATIONS.injected)}]`)}, ` +
      `${JSON_PATCH('add', `/metadata/annotations/${pointer(ANNOTATIONS.admissionPath)}`, '"policy"')}] + ` +
      `(why != "" ? [${JSON_PATCH('add', `/metadata/annotations/${pointer(ANNOTATIONS.decision)}`, 'why')}] : []) : ` +
      `[${JSON_PATCH('add', '/metadata/annotations', 'anns')}])`,
  ].join(' + ');
  const pol = chunkedLookup(
    'pol',
    usable.map((p) => stringMap(policyData(p.policy, injectionPaused(p.policy, sidecar.image, opts.now)))),
  );
  const variables: { name: string; expression: string }[] = [
    { name: 'ann', expression: 'has(object.metadata.annotations) ? object.metadata.annotations : {}' },
    { name: 'labels', expression: 'has(object.metadata.labels) ? object.metadata.labels : {}' },
    {
      name: 'nsLabels',
      expression: 'has(namespaceObject.metadata.labels) ? namespaceObject.metadata.labels : {}',
    },
    { name: 'containers', expression: 'has(object.spec.containers) ? object.spec.containers : []' },
    {
      name: 'all',
      expression: `(has(object.spec.initContainers) ? object.spec.initContainers : []) + ${V('containers')}`,
    },
    ...pol.variables,
    ...chunked(
      'm',
      usable.map((p) => matchExpr(p.policy)),
    ),
    { name: 'matched', expression: `[${names.map((_, i) => i).join(', ')}].filter(i, ${V('m')}[i])` },
    // Why the pod is left alone, in decideInjection's order ("" when it is injected).
    {
      name: 'skip',
      expression:
        `${str(ANNOTATIONS.injected)} in ${V('ann')} || ${V('all')}.exists(c, c.name == ${str(SIDECAR_CONTAINER_NAME)}) ? "already injected" : ` +
        `${str(ANNOTATIONS.inject)} in ${V('ann')} && ${V('ann')}[${str(ANNOTATIONS.inject)}] == "false" ? "opted out" : ` +
        `${V('matched')}.size() == 0 ? "no policy matches" : ` +
        `${V('containers')}.size() == 0 ? "pod has no containers" : ` +
        `has(object.spec.volumes) && object.spec.volumes.exists(v, v.name == ${str(SIDECAR_VOLUME_NAME)}) ? "volume taken" : ""`,
    },
    // The matching policies' probes resolved for this pod, in precedence order.
    { name: 'res', expression: `${V('matched')}.map(i, ${bind('p', pol.at('i'), resolveExpr())})` },
    // The first that resolves injects (its index in res), or -1.
    {
      name: 'chosen',
      expression: bind(
        'ok',
        `${V('res')}.transformList(j, x, x.err == "" ? j : -1).filter(j, j >= 0)`,
        'ok.size() > 0 ? ok[0] : -1',
      ),
    },
    { name: 'healthPort', expression: healthPortExpr() },
  ];
  const expression =
    `${V('skip')} != "" || ${V('chosen')} < 0 ? [] : ` +
    bind(
      'r',
      `${V('res')}[${V('chosen')}]`,
      bind(
        'name',
        'r.name',
        bind('container', containerExpr(sidecar), bind('why', explanation, bind('anns', annotations, patch))),
      ),
    );
  const labels = { ...WEBHOOK_LABELS };
  const matchConstraints: MutatingAdmissionPolicy['spec']['matchConstraints'] = {
    resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
    namespaceSelector: {
      matchExpressions: [{ key: NAME_LABEL, operator: 'NotIn', values: [...excluded].sort() }],
    },
    matchPolicy: 'Equivalent',
  };
  const matchConditions = [{ name: 'has-policies', expression: names.length > 0 ? 'true' : 'false' }];
  // processors.ts: a warning when a policy matched and the pod is still left alone, worded as
  // decideInjection's reason (opted out and already injected name no policy: no warning).
  const warnings = {
    expression:
      `${V('skip')} == "already injected" || ${V('skip')} == "opted out" || ${V('matched')}.size() == 0 || ` +
      `(${V('skip')} == "" && ${V('chosen')} >= 0)`,
    messageExpression:
      `"bulkhead: no sidecar injected: " + (` +
      `${V('skip')} == "pod has no containers" ? "pod has no containers" : ` +
      `${V('skip')} == "volume taken" ? ${str(`pod already has a volume named ${SIDECAR_VOLUME_NAME}`)} : ` +
      `"no matching policy injects this pod: " + ${V('res')}.map(x, x.name + ": " + x.err).join("; "))`,
  };
  return {
    warning: {
      policy: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: opts.name, labels },
        spec: {
          failurePolicy: 'Ignore',
          matchConstraints,
          // An injected pod (most of them) is not evaluated at all.
          matchConditions: [
            ...matchConditions,
            {
              name: 'not-injected',
              expression: `!has(object.metadata.annotations) || !(${str(ANNOTATIONS.injected)} in object.metadata.annotations)`,
            },
          ],
          variables: names.length > 0 ? variables.filter((v) => v.name !== 'healthPort') : [],
          // The API requires a validation; with no policy the match condition skips every pod.
          validations: names.length > 0 ? [warnings] : [{ expression: 'true', messageExpression: '""' }],
        },
      },
      binding: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: opts.name, labels },
        spec: { policyName: opts.name, validationActions: ['Warn'] },
      },
    },
    policy: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicy',
      metadata: { name: opts.name, labels, annotations: { 'bulkhead.dev/policies': String(policies.length) } },
      spec: {
        // A pod without a monitor beats no pod: an evaluation error admits it unchanged.
        failurePolicy: 'Ignore',
        reinvocationPolicy: 'IfNeeded',
        matchConstraints,
        // No policy, nothing to evaluate: the apiserver skips the pod at the first condition.
        matchConditions,
        // With no policy the lists would be empty literals CEL cannot type: nothing to compute.
        variables: names.length > 0 ? variables : [],
        mutations: [{ patchType: 'JSONPatch', jsonPatch: { expression: names.length > 0 ? expression : NO_PATCH } }],
      },
    },
    binding: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicyBinding',
      metadata: { name: opts.name, labels },
      spec: { policyName: opts.name },
    },
  };
}
