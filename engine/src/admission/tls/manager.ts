import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../core/logger.js';
import {
  fingerprint,
  createMaterial,
  notAfter,
  rotate,
  type RotationStep,
  type TlsMaterial,
  type TlsSettings,
} from './material.js';
import { parseCaStep } from './rotation-step.js';
import type { SecretStore } from './secret-store.js';

export interface TlsManagerDeps {
  store: SecretStore;
  settings: TlsSettings;
  logger: Logger;
  /** Installs new material in the server (hot reload). */
  onMaterial: (m: TlsMaterial) => void;
  /** Makes the webhook configurations and the sidecars' ConfigMaps trust `bundle` (idempotent). */
  publishBundle: (bundle: string) => Promise<unknown>;
  /**
   * Whether this replica may rotate (default: always, for a single process). Only the leader
   * writes rotation steps; every replica loads and publishes what the Secret holds.
   */
  isLeader?: () => boolean;
  clock?: () => Date;
  /** How often to re-read the Secret and check expiry (default 60 s). */
  intervalMs?: number;
  /** Where the rotation, error and expiry metrics go (none when absent). */
  registry?: Registry;
}

interface TlsMetrics {
  rotations: Counter<'step'>;
  errors: Counter;
  expiry: Gauge<'cert'>;
}

function tlsMetrics(registry: Registry): TlsMetrics {
  return {
    rotations: new Counter({
      name: 'bulkhead_admission_tls_rotations_total',
      help: 'Rotation steps this replica wrote to the TLS Secret',
      labelNames: ['step'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'bulkhead_admission_tls_reconcile_errors_total',
      help: 'Failed TLS reconcile passes (the current cert keeps serving)',
      registers: [registry],
    }),
    expiry: new Gauge({
      name: 'bulkhead_admission_tls_not_after_seconds',
      help: 'Expiry (unix seconds) of the loaded serving cert and CA',
      labelNames: ['cert'],
      registers: [registry],
    }),
  };
}

/**
 * Keeps the serving cert current for one replica. Every replica runs one: each reloads what
 * the shared Secret holds and keeps caBundle and the sidecars' ConfigMaps in step with it;
 * only the leader writes rotation steps (resourceVersion-guarded all the same, so a leader
 * that has just lost its Lease cannot overwrite its successor). Any replica may create the
 * Secret on a fresh install (one create wins). Errors are logged and retried on the next
 * tick: the old cert keeps serving meanwhile.
 */
export class TlsManager {
  private version = '';
  private current: TlsMaterial | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly clock: () => Date;
  private readonly metrics: TlsMetrics | undefined;
  rotations = 0;

  constructor(private readonly deps: TlsManagerDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.metrics = deps.registry ? tlsMetrics(deps.registry) : undefined;
  }

  get material(): TlsMaterial | undefined {
    return this.current;
  }

  /** Loads or creates the material; resolves once the server can start serving. */
  async start(): Promise<TlsMaterial> {
    await this.tick();
    if (!this.current) throw new Error('TLS material unavailable');
    const interval = this.deps.intervalMs ?? 60_000;
    this.timer = setInterval(() => void this.tick().catch(() => {}), interval);
    this.timer.unref();
    return this.current;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One reconcile pass (serialized). `force` rotates now (tests); operators annotate the
   * Secret instead (ROTATE_CA_ANNOTATION). Only the leader acts on either.
   */
  tick(force?: { ca?: boolean; serving?: boolean }): Promise<void> {
    return this.serialized(() => this.reconcile(force));
  }

  /**
   * Re-reads the Secret (serialized with the ticks) and returns what this replica now holds:
   * what a namespace that just appeared is given, without waiting for the next tick.
   */
  refresh(): Promise<TlsMaterial | undefined> {
    return this.serialized(async () => {
      const stored = await this.deps.store.read();
      if (stored) this.install(stored.material, stored.version);
    }).then(() => this.current);
  }

  private serialized(step: () => Promise<void>): Promise<void> {
    this.running = this.running.then(step, step);
    return this.running;
  }

  private async reconcile(force?: { ca?: boolean; serving?: boolean }): Promise<void> {
    const { store, settings, logger } = this.deps;
    const now = this.clock();
    const leader = this.deps.isLeader?.() ?? true;
    try {
      let stored = await store.read();
      if (!stored && this.current && !leader) {
        // Deleted while we serve: the leader re-creates it (below); keep serving meanwhile.
        logger.warn('webhook TLS Secret missing; waiting for the leader to re-create it');
        return;
      }
      if (!stored) {
        // A fresh install (nothing served yet), or the Secret was deleted under a running
        // engine: then it is re-created from what we serve with a new CA staged, so deleting
        // it rotates the CA with the overlap instead of cutting every apiserver and sidecar off.
        const base = this.current
          ? this.current.next
            ? this.current
            : (await rotate(this.current, settings, now, { ca: true })).material
          : await createMaterial(settings, now);
        stored = (await store.create(base)) ?? (await store.read());
        if (stored)
          logger.info(
            { fingerprint: fingerprint(stored.material.serving.cert), staged: Boolean(stored.material.next) },
            this.current ? 'webhook TLS Secret re-created with a new CA staged' : 'webhook TLS material created',
          );
      }
      if (!stored) throw new Error('TLS Secret neither readable nor creatable');
      this.install(stored.material, stored.version);

      const wanted = leader && stored.rotateCaRequested ? this.requested(stored.rotateCaStep, force) : force;
      const { material, steps } = leader
        ? await rotate(stored.material, settings, now, wanted)
        : { material: stored.material, steps: [] };
      if (steps.length > 0) {
        // Trust first: the bundle reaches the apiservers before anything is signed by a new CA.
        await this.deps.publishBundle(material.bundle);
        const written = await store.replace(material, stored.version);
        if (written) {
          this.rotations++;
          for (const step of steps) this.metrics?.rotations.inc({ step });
          logger.info(
            {
              steps,
              requested: stored.rotateCaRequested === true,
              ...(written.material.stepMs !== undefined ? { stepMs: written.material.stepMs } : {}),
              fingerprint: fingerprint(written.material.serving.cert),
            },
            'webhook TLS rotated',
          );
          this.install(written.material, written.version, steps);
        } else {
          logger.info({ steps }, 'webhook TLS rotation lost a race with another replica; re-reading');
          const again = await store.read();
          if (again) this.install(again.material, again.version);
        }
      }
      if (this.current) await this.deps.publishBundle(this.current.bundle);
    } catch (err) {
      this.metrics?.errors.inc();
      logger.warn({ err }, 'webhook TLS reconcile failed; serving the current cert');
    }
  }

  /** An operator's rotate-ca request, with the step it asks for judged (and said why when not taken as given). */
  private requested(
    stepValue: string | undefined,
    force: { ca?: boolean; serving?: boolean } | undefined,
  ): { ca: true; serving?: boolean; caStepMs?: number } {
    if (stepValue === undefined) return { ...force, ca: true };
    const { stepMs, problem } = parseCaStep(stepValue);
    if (problem) this.deps.logger.warn({ stepMs }, `forced CA rotation: ${problem}`);
    return { ...force, ca: true, caStepMs: stepMs };
  }

  private install(m: TlsMaterial, version: string, steps: RotationStep[] = []): void {
    if (version === this.version && this.current) return;
    const changedCert = !this.current || this.current.serving.cert !== m.serving.cert;
    this.current = m;
    this.version = version;
    this.metrics?.expiry.set({ cert: 'serving' }, notAfter(m.serving.cert).getTime() / 1000);
    this.metrics?.expiry.set({ cert: 'ca' }, notAfter(m.ca.cert).getTime() / 1000);
    if (changedCert) {
      this.deps.onMaterial(m);
      this.deps.logger.info({ steps, fingerprint: fingerprint(m.serving.cert) }, 'webhook serving cert loaded');
    }
  }
}
