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
import type { SecretStore } from './secret-store.js';

export interface TlsManagerDeps {
  store: SecretStore;
  settings: TlsSettings;
  logger: Logger;
  /** Installs new material in the server (hot reload). */
  onMaterial: (m: TlsMaterial) => void;
  /** Makes the webhook configurations trust `bundle` (idempotent). */
  publishBundle: (bundle: string) => Promise<unknown>;
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
 * the shared Secret holds; whoever sees a rotation due writes it (resourceVersion-guarded, so
 * one writer wins); every replica keeps caBundle in step. Errors are logged and retried on
 * the next tick: the old cert keeps serving meanwhile.
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

  /** One reconcile pass (serialized). `force` rotates now, for tests and `--rotate`. */
  tick(force?: { ca?: boolean; serving?: boolean }): Promise<void> {
    this.running = this.running.then(
      () => this.reconcile(force),
      () => this.reconcile(force),
    );
    return this.running;
  }

  private async reconcile(force?: { ca?: boolean; serving?: boolean }): Promise<void> {
    const { store, settings, logger } = this.deps;
    const now = this.clock();
    try {
      let stored = await store.read();
      if (!stored) {
        stored = (await store.create(await createMaterial(settings, now))) ?? (await store.read());
        if (stored)
          logger.info({ fingerprint: fingerprint(stored.material.serving.cert) }, 'webhook TLS material created');
      }
      if (!stored) throw new Error('TLS Secret neither readable nor creatable');
      this.install(stored.material, stored.version);

      const { material, steps } = await rotate(stored.material, settings, now, force);
      if (steps.length > 0) {
        // Trust first: the bundle reaches the apiservers before anything is signed by a new CA.
        await this.deps.publishBundle(material.bundle);
        const written = await store.replace(material, stored.version);
        if (written) {
          this.rotations++;
          for (const step of steps) this.metrics?.rotations.inc({ step });
          logger.info({ steps, fingerprint: fingerprint(written.material.serving.cert) }, 'webhook TLS rotated');
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
