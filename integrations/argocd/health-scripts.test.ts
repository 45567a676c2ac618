// Issue 16: Bulkhead's Argo CD health checks (resource_customizations/bulkhead.dev/<Kind>/
// health.lua), run in lua-health (local-cluster/lua-health-bin): gopher-lua at the version Argo
// CD pins, set up as Argo CD sets up a health script from argocd-cm (package, base and table
// only; os through require). Each Kind's health_test.yaml (Argo CD's own test format) names an
// object in each state and the health Argo CD must show for it. Unit tier: no cluster, and the
// runner builds in seconds (CI builds it before `npm test`; here it is built or reused). ADR 1603.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { load } from 'js-yaml';
import { ARGOCD_CM_PATCH, CUSTOMIZATIONS_DIR, healthKey, healthScripts, renderArgocdCmPatch } from './argocd-cm.js';

const run = promisify(execFile);
const root = resolve('.');

interface Case {
  healthStatus: { status: string; message: string };
  inputPath: string;
}
interface Kind {
  group: string;
  kind: string;
  dir: string;
  cases: Case[];
}

// Read when the file loads: mocha needs every `it` before the run starts.
const kinds: Kind[] = readdirSync(join(root, CUSTOMIZATIONS_DIR)).flatMap((group) =>
  readdirSync(join(root, CUSTOMIZATIONS_DIR, group)).map((kind) => {
    const dir = join(root, CUSTOMIZATIONS_DIR, group, kind);
    const { tests } = load(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as { tests: Case[] };
    return { group, kind, dir, cases: tests };
  }),
);

let luaHealth = '';

/** lua-health on one script and one object: Argo CD's health, or the error Argo CD would show. */
async function health(script: string, object: string): Promise<{ status: string; message?: string }> {
  const { stdout } = await run(luaHealth, [script, object], { timeout: 10_000 });
  return JSON.parse(stdout) as { status: string; message?: string };
}

async function failure(script: string, object: string): Promise<string> {
  try {
    await run(luaHealth, [script, object], { timeout: 10_000 });
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    assert.equal(e.code, 1, `lua-health should exit 1, got ${String(e.code)}: ${e.stderr ?? ''}`);
    return e.stderr ?? '';
  }
  throw new assert.AssertionError({ message: 'lua-health should have failed' });
}

describe('Argo CD health scripts (integrations/argocd) in the Lua VM Argo CD embeds', function () {
  // A first build downloads gopher-lua from the Go module proxy; a warm machine takes the cache.
  this.timeout(300_000);

  before(async () => {
    const { stdout } = await run('bash', ['local-cluster/build-lua-health.sh'], { timeout: 300_000 });
    luaHealth = stdout.trim().split('\n').at(-1)!;
  });

  it('there is one health script per CRD in deploy/crds', async () => {
    const crds = readdirSync(join(root, 'deploy/crds'))
      .filter((f) => f !== 'kustomization.yaml')
      .map((f) => {
        const crd = load(readFileSync(join(root, 'deploy/crds', f), 'utf8')) as {
          spec: { group: string; names: { kind: string } };
        };
        return `${crd.spec.group}/${crd.spec.names.kind}`;
      })
      .sort();
    assert.deepEqual(
      kinds.map((k) => `${k.group}/${k.kind}`),
      crds,
    );
  });

  for (const k of kinds) {
    describe(`${k.group}/${k.kind}`, () => {
      it('its cases include an object that is Progressing, one Healthy and one Degraded', () => {
        const states = new Set(k.cases.map((c) => c.healthStatus.status));
        for (const s of ['Progressing', 'Healthy', 'Degraded']) assert.ok(states.has(s), `no ${s} case`);
      });

      for (const c of k.cases)
        it(`${c.inputPath}: ${c.healthStatus.status}`, async () => {
          assert.deepEqual(await health(join(k.dir, 'health.lua'), join(k.dir, c.inputPath)), c.healthStatus);
        });
    });
  }

  it(`${ARGOCD_CM_PATCH} carries each script verbatim under its argocd-cm key (run \`npm run gen\` if not)`, async () => {
    const scripts = await healthScripts(root);
    const onDisk = await readFile(join(root, ARGOCD_CM_PATCH), 'utf8');
    assert.equal(onDisk, renderArgocdCmPatch(scripts));
    const cm = load(onDisk) as { kind: string; metadata: { name: string }; data: Record<string, string> };
    assert.equal(cm.kind, 'ConfigMap');
    assert.equal(cm.metadata.name, 'argocd-cm');
    assert.deepEqual(cm.data, Object.fromEntries(scripts.map((s) => [healthKey(s), s.lua])));
    assert.ok(cm.data['resource.customizations.health.bulkhead.dev_HealthPolicy']);
  });

  describe('lua-health gives a script only what Argo CD gives an argocd-cm script', () => {
    let tmp = '';
    const object = () => join(tmp, 'object.yaml');
    const script = async (lua: string) => {
      const p = join(tmp, `s${Math.random().toString(36).slice(2)}.lua`);
      await writeFile(p, lua);
      return p;
    };
    before(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'bh-lua-health-'));
      await writeFile(object(), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x, generation: 7 }\n');
    });
    after(() => rm(tmp, { recursive: true, force: true }));

    it('obj is the object, numbers as Lua numbers', async () => {
      const s = await script(
        'return { status = "Healthy", message = obj.kind .. " " .. (obj.metadata.generation + 1) }',
      );
      assert.deepEqual(await health(s, object()), { status: 'Healthy', message: 'ConfigMap 8' });
    });

    it('no string library (Argo CD opens none of the standard libraries for argocd-cm scripts)', async () => {
      const s = await script('return { status = string.format("%s", "Healthy") }');
      assert.match(await failure(s, object()), /attempt to index a non-table object\(nil\) with key 'format'/);
      const m = await script('return { status = ("healthy"):upper() }');
      assert.match(await failure(m, object()), /with key 'upper'/);
    });

    it('os only through require("os"), with time()', async () => {
      const s = await script(
        'local os = require("os"); return { status = "Healthy", message = type(_G.os) .. " " .. tostring(os.time() > 0) }',
      );
      assert.deepEqual(await health(s, object()), { status: 'Healthy', message: 'nil true' });
    });

    it('a status Argo CD does not know is Unknown, as Argo CD reports it', async () => {
      const s = await script('return { status = "Fine", message = "x" }');
      assert.deepEqual(await health(s, object()), {
        status: 'Unknown',
        message: 'Lua returned an invalid health status',
      });
    });

    it('a script that returns no table, or runs past one second, fails', async () => {
      assert.match(
        await failure(await script('return 3'), object()),
        /expect table output from Lua script, not number/,
      );
      assert.match(await failure(await script('while true do end'), object()), /context deadline exceeded/);
    });
  });
});
