// `npm run bench [filter]`: runs every bench/*.bench.ts in turn (or those whose name contains
// the filter) and writes bench/results/latest.json and bench/results/latest.md.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchResult } from './lib.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2] ?? '';
const quick = process.env.BENCH_QUICK === '1';
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts') && f.includes(filter)).sort();
const all: (BenchResult & { bench: string })[] = [];
let failed = 0;
for (const f of files) {
  const bench = f.replace(/\.bench\.ts$/, '');
  process.stderr.write(`▸ ${bench}\n`);
  try {
    const mod = (await import(join(here, f))) as { default: Bench };
    const results = await mod.default({ log: (l) => process.stderr.write(`  ${l}\n`), quick });
    for (const r of results) all.push({ bench, ...r });
  } catch (err) {
    failed++;
    process.stderr.write(`  ✖ ${bench} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  date: new Date().toISOString(),
};
const fmt = (v: number | undefined): string =>
  v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1);
const md = [
  `# Bulkhead benchmarks`,
  '',
  `${machine.date} · ${machine.cpu} · ${machine.cores} cores · Node ${machine.node}`,
  '',
  '| bench | measure | value | baseline (same run) | ratio | goal | met |',
  '|---|---|---|---|---|---|---|',
  ...all.map(
    (r) =>
      `| ${r.bench} | ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : ''} | ${fmt(r.ratio)} | ${r.goal ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} |`,
  ),
  '',
].join('\n');
const out = join(here, 'results');
await mkdir(out, { recursive: true });
await writeFile(join(out, 'latest.json'), JSON.stringify({ machine, results: all }, null, 2));
await writeFile(join(out, 'latest.md'), md);
process.stdout.write(md);
process.exitCode = failed > 0 ? 1 : 0;
