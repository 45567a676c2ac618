// `validate`: `loadPolicyDir` on 1,000 generated policy files (read, parse with positions,
// limits, ajv, semantic and cross-file checks) against plain js-yaml `loadAll` of the same
// files in the same run. Peak RSS is measured in a fresh child process per mode, so it is the
// cost of that work alone.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump, loadAll } from 'js-yaml';
import { isValid, loadPolicyDir } from '../engine/src/policy/index.js';
import { median, round, timeRuns, withBaseline, type Bench, type BenchResult } from './lib.js';

const FILES = 1000;
const ACTIONS = ['Quarantine', 'Isolate', 'Restart', 'Alert'] as const;

/** A realistic policy: 50 namespaces × 20 apps, a mix of probes, rules and actions. */
function policy(i: number): Record<string, unknown> {
  const ns = `team-${i % 50}`;
  const app = `app-${Math.floor(i / 50)}`;
  return {
    apiVersion: 'bulkhead.dev/v1alpha1',
    kind: 'HealthPolicy',
    metadata: { name: `${ns}-${app}`, labels: { team: ns } },
    spec: {
      match: {
        namespaces: [ns],
        selector: {
          matchLabels: { 'app.kubernetes.io/name': app },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['api', 'web'] }],
        },
      },
      probe:
        i % 3 === 0
          ? { tcp: { port: 9000 + (i % 100) }, interval: '10s', timeout: '2s' }
          : { http: { path: '/healthz', port: 8080 }, interval: '5s', timeout: '1s', expectStatus: [200] },
      detect: {
        rules: [
          { type: 'ConsecutiveFailures', threshold: 3 },
          { type: 'ErrorRate', ratio: 0.2, window: '5m', minSamples: 20 },
          { type: 'CrashLoop' },
        ],
      },
      action: {
        type: ACTIONS[i % 4],
        mode: i % 5 === 0 ? 'DryRun' : 'Enforce',
        similar: { groupBy: ['app.kubernetes.io/version'], action: 'Alert' },
        budget: { maxUnavailable: '25%', maxPerNamespacePerHour: 5 },
        releaseAfter: '1h',
      },
      forward: [{ url: 'https://collector.example.com/ingest', batch: { maxReports: 100, maxWait: '10s' } }],
    },
  };
}

async function generate(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'bh-bench-validate-'));
  await mkdir(join(root, 'policies'));
  for (let i = 0; i < FILES; i++)
    await writeFile(
      join(root, 'policies', `p${String(i).padStart(4, '0')}.yaml`),
      `# generated policy ${i}\n${dump(policy(i))}`,
    );
  return root;
}

async function parseOnly(root: string): Promise<number> {
  let docs = 0;
  const dir = join(root, 'policies');
  for (const f of await readdir(dir)) docs += loadAll(await readFile(join(dir, f), 'utf8')).length;
  return docs;
}

async function validateOnly(root: string): Promise<number> {
  const r = await loadPolicyDir(root);
  if (!isValid(r)) throw new Error(`generated policies are invalid: ${JSON.stringify(r.diagnostics.slice(0, 3))}`);
  return r.policies.length;
}

/** Peak RSS (MiB) of a fresh process doing one run of `mode`. */
function childPeakRss(mode: 'validate' | 'parse', root: string): number {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--worker', mode, root], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const m = /peakRssKiB=(\d+)/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`${mode} worker failed: ${r.stderr.slice(-500)}`);
  return round(Number(m[1]) / 1024, 1);
}

const bench: Bench = async (ctx) => {
  const runs = ctx.quick ? 3 : 9;
  const root = await generate();
  try {
    ctx.log(`${FILES} policy files in ${root}`);
    // Warm-up: the first call compiles the ajv validators (once per process).
    await validateOnly(root);
    await parseOnly(root);
    const validate = median(await timeRuns(runs, () => validateOnly(root)));
    const parse = median(await timeRuns(runs, () => parseOnly(root)));
    const rssValidate = childPeakRss('validate', root);
    const rssParse = childPeakRss('parse', root);
    const results: BenchResult[] = [
      withBaseline({
        name: `validate ${FILES} policy files: median`,
        value: round(validate, 1),
        unit: 'ms',
        baseline: { name: 'js-yaml loadAll of the same files', value: round(parse, 1) },
        goal: 'ratio <= 3',
        met: validate / parse <= 3,
        notes: `${runs} warm runs each`,
      }),
      withBaseline({
        name: `validate ${FILES} policy files: peak RSS`,
        value: rssValidate,
        unit: 'MiB',
        baseline: { name: 'js-yaml loadAll of the same files', value: rssParse },
        goal: 'ratio <= 2',
        met: rssValidate / rssParse <= 2,
        notes: 'fresh child process per mode, one run',
      }),
    ];
    return results;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
};
export default bench;

// Child-process mode for the RSS figures: `node --import tsx validate.bench.ts --worker <mode> <dir>`.
if (process.argv[2] === '--worker') {
  const [mode, root] = [process.argv[3], process.argv[4]!];
  if (mode === 'validate') await validateOnly(root);
  else await parseOnly(root);
  process.stdout.write(`peakRssKiB=${process.resourceUsage().maxRSS}\n`);
}
