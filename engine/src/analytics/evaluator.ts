import type { HealthPolicy } from '../core/api/index.js';
import type { Logger } from '../core/logger.js';
import type { PodHealthWindow } from '../observe/index.js';
import { decide, type Verdict } from './decide.js';
import { detectSignals } from './detectors/index.js';
import { toAnalytics, type PodFacts } from './from-observe.js';
import { groupIncidents } from './grouping.js';
import { HYSTERESIS_DEFAULTS, stepHysteresis, type HysteresisOptions, type HysteresisState } from './hysteresis.js';
import type { PodHealth, Signal } from './types.js';
import { errorMessage } from '../core/errors.js';

export interface EvaluatorOptions {
  /** The current window of a pod (observe's store). */
  health(uid: string): PodHealthWindow | undefined;
  /** Other pods of the same policy in the namespace: siblings for anomalies and `similar`. */
  peers(namespace: string, policy: string): PodHealthWindow[];
  /** Labels, node, owner and image of a pod (a cached read of the pod object). */
  facts(pod: { namespace: string; name: string; uid: string }): Promise<PodFacts | undefined>;
  /** The policy that judges the pod (from the cluster: ADR 1400), or undefined to leave it alone. */
  policyFor(health: PodHealthWindow, facts: PodFacts): HealthPolicy | undefined | Promise<HealthPolicy | undefined>;
  /**
   * The pods a policy's `similar` siblings are chosen from in a namespace (the cluster's pods
   * the policy selects, read when an incident is decided). Without it: the pods that reported.
   */
  population?(namespace: string, policy: HealthPolicy): Promise<PodHealth[]>;
  /** Report rejections (bad or foreign tokens) naming this pod, as epoch ms. */
  identityRejections?(uid: string): readonly number[];
  onVerdict(verdict: Verdict, policy: HealthPolicy): Promise<void>;
  logger: Logger;
  /** How long tripped pods are collected before grouping: many pods failing at once become one incident. */
  groupWindowMs?: number;
  hysteresis?: HysteresisOptions;
  /** Hysteresis states kept; the least recently evaluated pod's state is dropped past this. */
  maxTracked?: number;
  now?: () => number;
}

interface Tripped {
  pod: PodHealth;
  signals: Signal[];
  policy: HealthPolicy;
}

/**
 * The analytics loop. Every new report marks its pod dirty; a dirty pod is evaluated at once
 * (detectors + hysteresis). Pods that trip are held for a short grouping window, then grouped
 * into incidents per policy and decided: one Verdict per incident. Work is bounded: at most
 * one pending evaluation per pod, at most `maxTracked` hysteresis states.
 */
export class Evaluator {
  private readonly dirty = new Set<string>();
  private readonly states = new Map<string, HysteresisState>();
  private tripped: Tripped[] = [];
  private draining: Promise<void> | undefined;
  private groupTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly opts: EvaluatorOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** A pod's window changed (a report or a pod event arrived). */
  notify(uid: string): void {
    if (this.stopped) return;
    this.dirty.add(uid);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.dirty.size > 0 && !this.stopped) this.notify([...this.dirty][0]!);
    });
  }

  /** Resolves when pending evaluations and the grouping window are done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.groupTimer) {
      clearTimeout(this.groupTimer);
      this.groupTimer = undefined;
      await this.decideTripped();
    }
  }

  /**
   * A signal from outside (the verdict API): it skips detection and hysteresis but joins the
   * same grouping window, decision, budget, DryRun and audit as the built-in detectors.
   */
  submit(pod: PodHealth, signals: Signal[], policy: HealthPolicy): void {
    if (this.stopped) return;
    this.tripped.push({ pod, signals, policy });
    this.groupTimer ??= setTimeout(() => {
      this.groupTimer = undefined;
      void this.decideTripped();
    }, this.opts.groupWindowMs ?? 250);
  }

  stop(): void {
    this.stopped = true;
    if (this.groupTimer) clearTimeout(this.groupTimer);
  }

  private async drain(): Promise<void> {
    while (this.dirty.size > 0 && !this.stopped) {
      const uid = this.dirty.values().next().value as string;
      this.dirty.delete(uid);
      try {
        await this.evaluate(uid);
      } catch (err) {
        this.opts.logger.warn({ err: errorMessage(err), uid }, 'evaluation failed');
      }
    }
  }

  private async evaluate(uid: string): Promise<void> {
    const observed = this.opts.health(uid);
    if (!observed) return;
    const facts = await this.opts.facts({ namespace: observed.namespace, name: observed.pod, uid });
    if (!facts) return;
    const policy = await this.opts.policyFor(observed, facts);
    if (!policy) return;
    const pod = toAnalytics(observed, facts, this.opts.identityRejections?.(uid));
    const now = this.now();
    const siblings = this.opts
      .peers(observed.namespace, policy.metadata.name)
      .filter((p) => p.uid !== uid)
      .map((p) => toAnalytics(p, { labels: {} }));
    const signals = detectSignals(pod, policy, siblings, now);
    const { state, transition } = stepHysteresis(
      this.states.get(uid),
      signals.length > 0,
      signals.some((s) => s.threat),
      now,
      this.opts.hysteresis ?? HYSTERESIS_DEFAULTS,
    );
    this.states.delete(uid); // re-insert: Map order is the LRU order
    this.states.set(uid, state);
    if (this.states.size > (this.opts.maxTracked ?? 50_000))
      this.states.delete(this.states.keys().next().value as string);
    if (transition !== 'trip') return;
    this.opts.logger.info(
      { pod: `${pod.namespace}/${pod.name}`, policy: policy.metadata.name, signals: signals.map((s) => s.reason) },
      'pod tripped',
    );
    this.submit(pod, signals, policy);
  }

  private async decideTripped(): Promise<void> {
    const batch = this.tripped;
    this.tripped = [];
    const byPolicy = new Map<string, Tripped[]>();
    for (const t of batch) byPolicy.set(t.policy.metadata.name, [...(byPolicy.get(t.policy.metadata.name) ?? []), t]);
    for (const members of byPolicy.values()) {
      const policy = members[0]!.policy;
      const population = await this.population(members);
      for (const incident of groupIncidents(members.map((m) => ({ pod: m.pod, signals: m.signals })))) {
        try {
          await this.opts.onVerdict(decide(incident, policy, population), policy);
        } catch (err) {
          this.opts.logger.error({ err: errorMessage(err), incident: incident.key }, 'verdict failed');
        }
      }
    }
  }

  /** Healthy peers with their labels, for the policy's `similar` siblings. */
  private async population(members: Tripped[]): Promise<PodHealth[]> {
    const policy = members[0]!.policy;
    if (!policy.spec.action.similar) return [];
    const out: PodHealth[] = [];
    for (const ns of new Set(members.map((m) => m.pod.namespace))) {
      if (this.opts.population) {
        try {
          out.push(...(await this.opts.population(ns, policy)));
        } catch (err) {
          // No siblings this time is better than no verdict for the failing pods.
          this.opts.logger.warn({ err: errorMessage(err), namespace: ns }, 'similar pods not read');
        }
        continue;
      }
      for (const peer of this.opts.peers(ns, policy.metadata.name)) {
        const facts = await this.opts.facts({ namespace: peer.namespace, name: peer.pod, uid: peer.uid });
        if (facts) out.push(toAnalytics(peer, facts));
      }
    }
    return out;
  }
}
