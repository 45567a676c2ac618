import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig, type V1EnvVar, type V1Pod } from '@kubernetes/client-node';
import { injectedSidecar, SIDECAR_TOKEN_AUDIENCE } from '../../engine/src/admission/index.js';
import { mintServiceAccountToken } from './identities.js';
import { signalGroup, startProcess, type ManagedProcess } from './managed-process.js';
import { freePorts } from './ports.js';

/**
 * Plays the kubelet for pods on kwok's simulated nodes, so the sidecar can be shown doing its
 * real job without a container runtime: for every Running pod that carries the injected
 * sidecar container, it starts a real local app process (tools/local-cluster/demo-app.mjs)
 * and the real sidecar process (the same bundle the image ships) with the env the webhook
 * injected, a pod-bound token minted through TokenRequest (what the kubelet would project),
 * and the probe aimed at the app's loopback port. Processes stop when their pod goes away.
 * Local only: there is no CNI here, so NetworkPolicies are stored but not enforced.
 */
export interface PodRunnerOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  workDir: string;
  /** CA that signs the engine's report endpoint (the sidecar verifies it). */
  caCert: string;
  /** Where sidecars report (the engine's local HTTPS URL), replacing the in-cluster Service URL. */
  reportUrl: string;
  /** Extra env for every sidecar (e.g. a faster report interval for a demo). */
  sidecarEnv?: Record<string, string>;
  pollMs?: number;
  onEvent?: (e: { type: 'started' | 'stopped'; pod: string; appPort?: number }) => void;
}

interface Running {
  uid: string;
  app: ManagedProcess;
  sidecar: ManagedProcess;
  appPort: number;
}

const demoApp = fileURLToPath(new URL('./demo-app.mjs', import.meta.url));

export class PodRunner {
  private readonly running = new Map<string, Running>();
  private timer: NodeJS.Timeout | undefined;
  private bundle: string | undefined;
  private busy: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: PodRunnerOptions) {}

  async start(): Promise<void> {
    await mkdir(this.opts.workDir, { recursive: true });
    // Lazy: the bundler (esbuild) is a development tool; an engine image never loads it.
    const { buildSidecar } = await import('../../sidecar/build.js');
    this.bundle = await buildSidecar(join(this.opts.workDir, 'sidecar.mjs'));
    await writeFile(join(this.opts.workDir, 'ca.crt'), this.opts.caCert);
    await this.sync();
    const tick = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        void this.sync().finally(tick);
      }, this.opts.pollMs ?? 300);
    };
    tick();
  }

  /** The local app port of a pod (to make it fail), if it runs. */
  appPort(pod: string): number | undefined {
    return this.running.get(pod)?.appPort;
  }

  pods(): string[] {
    return [...this.running.keys()];
  }

  logFiles(): [string, string][] {
    return [...this.running].flatMap(([pod, r]) => [
      [`app ${pod}`, r.app.logFile],
      [`sidecar ${pod}`, r.sidecar.logFile],
    ]);
  }

  /** Makes a pod's app answer 500 from now on (or recover). */
  async setFailing(pod: string, failing: boolean): Promise<void> {
    const port = this.appPort(pod);
    if (!port) throw new Error(`no local app runs for pod ${pod}`);
    await new Promise<void>((ok, fail) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: failing ? '/__demo/fail' : '/__demo/recover' },
        (res) => {
          res.resume();
          res.on('end', () => ok());
        },
      );
      req.on('error', fail);
      req.end();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.busy;
    await Promise.all([...this.running.keys()].map((p) => this.stopPod(p)));
  }

  private sync(): Promise<void> {
    this.busy ??= this.reconcile().finally(() => {
      this.busy = undefined;
    });
    return this.busy;
  }

  private async reconcile(): Promise<void> {
    let pods: V1Pod[];
    try {
      pods = (await this.opts.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: this.opts.namespace }))
        .items;
    } catch {
      return; // the next tick tries again
    }
    const wanted = new Map<string, V1Pod>();
    for (const p of pods) {
      const injected = injectedSidecar(p) !== undefined;
      if (injected && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp) wanted.set(p.metadata!.name!, p);
    }
    for (const [name, r] of this.running) {
      if (wanted.get(name)?.metadata?.uid !== r.uid) await this.stopPod(name);
    }
    for (const [name, pod] of wanted) {
      if (!this.running.has(name) && !this.stopped) await this.startPod(pod).catch(() => {});
    }
  }

  private async startPod(pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    const uid = pod.metadata!.uid!;
    const dir = join(this.opts.workDir, name);
    await mkdir(dir, { recursive: true });
    const token = await mintServiceAccountToken(
      this.opts.kubeConfig,
      this.opts.namespace,
      pod.spec?.serviceAccountName ?? 'default',
      {
        audiences: [SIDECAR_TOKEN_AUDIENCE],
        expirationSeconds: 3600,
        boundPod: { name, uid },
      },
    );
    await writeFile(join(dir, 'token'), token, { mode: 0o600 });
    const [appPort, healthPort] = (await freePorts(2)) as [number, number];
    const app = await startProcess(
      `app-${name}`,
      process.execPath,
      [demoApp, String(appPort), name],
      join(dir, 'app.log'),
    );
    // Like a kubelet's startup probe: the sidecar (and whoever drives the app) starts only
    // once the app accepts connections, however slow the machine is.
    if (!(await listening(appPort, 15_000))) {
      await app.stop(1000);
      throw new Error(`app of ${name} did not listen on ${appPort}: ${await app.logTail(5)}`);
    }
    const container = injectedSidecar(pod)!;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const e of container.env ?? []) {
      const v = resolveEnv(e, pod);
      if (v !== undefined) env[e.name] = v;
    }
    Object.assign(env, {
      BULKHEAD_PROBE_HOST: '127.0.0.1',
      BULKHEAD_PROBE_PORT: String(appPort),
      BULKHEAD_REPORT_URL: this.opts.reportUrl,
      BULKHEAD_TOKEN_PATH: join(dir, 'token'),
      BULKHEAD_CA_PATH: join(this.opts.workDir, 'ca.crt'),
      BULKHEAD_HEALTH_PORT: String(healthPort),
      ...this.opts.sidecarEnv,
    });
    const sidecar = await startProcess(
      `sidecar-${name}`,
      process.execPath,
      [this.bundle!],
      join(dir, 'sidecar.log'),
      env,
    );
    this.running.set(name, { uid, app, sidecar, appPort });
    this.opts.onEvent?.({ type: 'started', pod: name, appPort });
  }

  private async stopPod(name: string): Promise<void> {
    const r = this.running.get(name);
    if (!r) return;
    this.running.delete(name);
    await Promise.all([r.sidecar.stop(3000), r.app.stop(2000)]);
    this.opts.onEvent?.({ type: 'stopped', pod: name });
  }

  /** Synchronous last resort for process exit. */
  killAll(): void {
    for (const r of this.running.values()) {
      signalGroup(r.sidecar.pid, 'SIGKILL');
      signalGroup(r.app.pid, 'SIGKILL');
    }
  }

  async removeFiles(): Promise<void> {
    await rm(this.opts.workDir, { recursive: true, force: true });
  }
}

/** True once 127.0.0.1:port accepts a TCP connection, false after the timeout. */
async function listening(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((done) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Downward API values the kubelet would fill in; literal values as they are. */
function resolveEnv(e: V1EnvVar, pod: V1Pod): string | undefined {
  if (e.value !== undefined) return e.value;
  const field = e.valueFrom?.fieldRef?.fieldPath;
  if (field === 'metadata.name') return pod.metadata?.name;
  if (field === 'metadata.namespace') return pod.metadata?.namespace;
  if (field === 'metadata.uid') return pod.metadata?.uid;
  if (field === 'spec.nodeName') return pod.spec?.nodeName;
  if (field === 'status.podIP') return pod.status?.podIP;
  return undefined;
}
