// Sidecar footprint and detection speed (performance-anchors P7; issue 6's bench list).
//  - the bundled sidecar (dist/sidecar/sidecar.mjs) probing a trivial HTTP app at 1 probe/s,
//    reporting every 10 s to a local HTTPS receiver, for 60 s (15 s with BENCH_QUICK=1)
//  - same-run baseline: an idle `node -e "setInterval(()=>{},1000)"` over the same window
//  - start to first probe; failure to report (the app starts answering 500).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from '../engine/src/core/pki.js';
import { buildSidecar } from '../sidecar/build.js';
import { SIDECAR_NODE_FLAGS } from '../sidecar/src/node-flags.js';
import { round, withBaseline, type Bench } from './lib.js';
import { procUsage } from './support/proc-usage.js';

const LEAN_FLAGS = SIDECAR_NODE_FLAGS;

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

const bench: Bench = async ({ log, quick }) => {
  const windowMs = quick ? 15_000 : 60_000;
  const warmupMs = 3_000;
  const file = await buildSidecar();
  const dir = await mkdtemp(join(tmpdir(), 'bh-sidecar-bench-'));

  // The main container: a trivial HTTP app (in this process: its cost is not the sidecar's).
  let failing = false;
  let firstProbeAt = 0;
  const app = createHttp((req, res) => {
    firstProbeAt ||= performance.now();
    res.writeHead(failing ? 500 : 200).end('ok');
  });
  await new Promise<void>((ok) => app.listen(0, '127.0.0.1', ok));
  const appPort = (app.address() as AddressInfo).port;

  // The engine stand-in: accepts every report, remembers when the first failing sample came.
  const ca = await createCertificateAuthority('bench-ca', 1);
  const cert = await issueCertificate(ca, {
    commonName: '127.0.0.1',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    validForDays: 1,
  });
  await writeFile(join(dir, 'ca.crt'), ca.cert);
  await writeFile(join(dir, 'token'), 'bench-token');
  let failureSeenAt = 0;
  let reports = 0;
  const receiver = createHttps(cert, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      reports++;
      const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { samples: { probe: { ok: boolean } }[] };
      if (failing && !failureSeenAt && r.samples.some((s) => !s.probe.ok)) failureSeenAt = performance.now();
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  const receiverPort = (receiver.address() as AddressInfo).port;

  const env = {
    PATH: process.env.PATH ?? '',
    BULKHEAD_POD_NAME: 'bench',
    BULKHEAD_POD_NAMESPACE: 'bench',
    BULKHEAD_POD_UID: 'bench-uid',
    BULKHEAD_PROBE_PORT: String(appPort),
    BULKHEAD_PROBE_PATH: '/health',
    BULKHEAD_PROBE_INTERVAL: '1s',
    BULKHEAD_REPORT_INTERVAL: '10s',
    BULKHEAD_REPORT_URL: `https://127.0.0.1:${receiverPort}/api/v1/reports`,
    BULKHEAD_CA_PATH: join(dir, 'ca.crt'),
    BULKHEAD_TOKEN_PATH: join(dir, 'token'),
    BULKHEAD_HEALTH_PORT: '0',
  };
  const startedAt = performance.now();
  const sidecar: ChildProcess = spawn(process.execPath, [file], { stdio: ['ignore', 'ignore', 'ignore'], env });
  // The same bundle started as the sidecar container should start it (sidecar/src/node-flags.ts).
  const lean: ChildProcess = spawn(process.execPath, [...LEAN_FLAGS, file], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env,
  });
  // P7's second rate: 10 probes/s.
  const fast: ChildProcess = spawn(process.execPath, [...LEAN_FLAGS, file], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...env, BULKHEAD_PROBE_INTERVAL: '100ms', BULKHEAD_PROBE_TIMEOUT: '90ms' },
  });
  const idle: ChildProcess = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
  try {
    while (!firstProbeAt && performance.now() - startedAt < 10_000) await sleep(5);
    const startToFirstProbe = firstProbeAt - startedAt;
    await sleep(warmupMs);
    const s0 = await procUsage(sidecar.pid!);
    const l0 = await procUsage(lean.pid!);
    const f0 = await procUsage(fast.pid!);
    const i0 = await procUsage(idle.pid!);
    const t0 = performance.now();
    let sMax = 0;
    let lMax = 0;
    let iMax = 0;
    while (performance.now() - t0 < windowMs) {
      await sleep(1000);
      sMax = Math.max(sMax, (await procUsage(sidecar.pid!)).rssBytes);
      lMax = Math.max(lMax, (await procUsage(lean.pid!)).rssBytes);
      iMax = Math.max(iMax, (await procUsage(idle.pid!)).rssBytes);
    }
    const secs = (performance.now() - t0) / 1000;
    const s1 = await procUsage(sidecar.pid!);
    const l1 = await procUsage(lean.pid!);
    const f1 = await procUsage(fast.pid!);
    const i1 = await procUsage(idle.pid!);
    const sCpu = ((s1.cpuSeconds - s0.cpuSeconds) / secs) * 100;
    const iCpu = ((i1.cpuSeconds - i0.cpuSeconds) / secs) * 100;
    const lCpu = ((l1.cpuSeconds - l0.cpuSeconds) / secs) * 100;
    const fCpu = ((f1.cpuSeconds - f0.cpuSeconds) / secs) * 100;

    // Failure to report: the app starts answering 500; the sidecar must not wait for its 10 s tick.
    failing = true;
    const failAt = performance.now();
    while (!failureSeenAt && performance.now() - failAt < 15_000) await sleep(5);
    const failureToReport = failureSeenAt ? failureSeenAt - failAt : Number.NaN;
    log(`lean (${LEAN_FLAGS.join(' ')}) rss max ${round(lMax / 2 ** 20)} MiB cpu ${round(lCpu, 3)}%`);
    log(
      `sidecar rss max ${round(sMax / 2 ** 20)} MiB cpu ${round(sCpu, 3)}%; idle node rss ${round(iMax / 2 ** 20)} MiB cpu ${round(iCpu, 3)}%; ${reports} reports`,
    );
    const mib = (b: number): number => round(b / 2 ** 20, 1);
    return [
      withBaseline({
        name: `sidecar RSS (max) at 1 probe/s over ${windowMs / 1000} s`,
        value: mib(sMax),
        unit: 'MiB',
        baseline: { name: 'idle node -e setInterval', value: mib(iMax) },
        goal: 'RSS <= 40 MiB',
        met: sMax <= 40 * 2 ** 20,
      }),
      withBaseline({
        name: `sidecar CPU at 1 probe/s over ${windowMs / 1000} s`,
        value: round(sCpu, 3),
        unit: '% of a core',
        baseline: { name: 'idle node -e setInterval', value: Math.max(round(iCpu, 3), 0.001) },
        goal: 'CPU <= 1% of a core',
        met: sCpu <= 1,
        notes: '/proc utime+stime at 10 ms resolution',
      }),
      withBaseline({
        name: `sidecar RSS (max) with ${LEAN_FLAGS.join(' ')}`,
        value: mib(lMax),
        unit: 'MiB',
        baseline: { name: 'idle node -e setInterval', value: mib(iMax) },
        goal: 'RSS <= 40 MiB',
        met: lMax <= 40 * 2 ** 20,
      }),
      withBaseline({
        name: `sidecar CPU with ${LEAN_FLAGS.join(' ')}`,
        value: round(lCpu, 3),
        unit: '% of a core',
        baseline: { name: 'idle node -e setInterval', value: Math.max(round(iCpu, 3), 0.001) },
        goal: 'CPU <= 1% of a core',
        met: lCpu <= 1,
      }),
      withBaseline({
        name: `sidecar CPU at 10 probes/s with ${LEAN_FLAGS.join(' ')}`,
        value: round(fCpu, 3),
        unit: '% of a core',
        baseline: { name: 'idle node -e setInterval', value: Math.max(round(iCpu, 3), 0.001) },
        goal: '<= 10 millicores = 1% of a core (P7)',
        met: fCpu <= 1,
        notes: `RSS ${round(f1.rssBytes / 2 ** 20, 1)} MiB at the end`,
      }),
      {
        name: 'sidecar start to first probe',
        value: round(startToFirstProbe, 0),
        unit: 'ms',
        goal: '<= 300 ms (P7)',
        met: startToFirstProbe <= 300,
      },
      {
        name: 'failure to report (1 s probes, 10 s report interval)',
        value: round(failureToReport, 0),
        unit: 'ms',
        goal: '<= 2 probe periods + 1 s = 3000 ms (P7)',
        met: failureToReport <= 3000,
      },
    ];
  } finally {
    for (const c of [sidecar, lean, fast, idle]) {
      if (c.exitCode === null) {
        c.kill('SIGKILL');
        await once(c, 'exit');
      }
    }
    app.close();
    receiver.closeAllConnections();
    receiver.close();
  }
};

export default bench;
