// No Docker engine on this machine, so the images cannot be built in the tests. This checks
// what can be checked without one: the structure of Dockerfile and sidecar/Dockerfile
// (multi-stage, a base that pulls (by tag or a real digest), never `latest`, numeric non-root user in the final
// stage, production dependencies only, exec-form entrypoint) and the build context filter.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile → instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (cur === '' && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      cur += `${line.slice(0, -1)} `;
      continue;
    }
    cur += line;
    if (cur.trim()) logical.push(cur.trim());
    cur = '';
  }
  return logical.map((l) => {
    const i = l.search(/\s/);
    return { op: l.slice(0, i).toUpperCase(), args: l.slice(i + 1).trim() };
  });
}

interface Stage {
  image: string;
  name?: string;
  body: Instruction[];
}

function stages(ins: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const out: Stage[] = [];
  for (const i of ins) {
    if (i.op === 'ARG' && out.length === 0) {
      const [k, v] = i.args.split('=');
      if (k && v !== undefined) args.set(k, v);
    } else if (i.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args);
      assert.ok(m, `FROM ${i.args}`);
      const image = (m[1] ?? '').replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? `<unset ${k}>`);
      out.push({ image, ...(m[2] ? { name: m[2] } : {}), body: [] });
    } else {
      out.at(-1)?.body.push(i);
    }
  }
  return { args, stages: out };
}

for (const file of ['Dockerfile', 'sidecar/Dockerfile']) {
  describe(`${file} structure`, () => {
    const text = readFileSync(`${root}${file}`, 'utf8');
    const { args, stages: st } = stages(parseDockerfile(text));
    const final = st.at(-1);

    it('is multi-stage: named build stages, and the final stage copies only from them', () => {
      assert.ok(st.length >= 2, 'one FROM only');
      const names = st.slice(0, -1).map((s) => s.name);
      assert.ok(names.every(Boolean), 'every build stage is named');
      const froms = (final?.body ?? [])
        .filter((i) => i.op === 'COPY' && i.args.startsWith('--from='))
        .map((i) => /--from=(\S+)/.exec(i.args)?.[1]);
      assert.ok(froms.length > 0, 'the final stage copies nothing from a build stage');
      for (const f of froms) assert.ok(names.includes(f), `COPY --from=${f}: no such stage`);
    });

    it('pulls a base that exists on a clean machine: node:20 by tag or by a real digest, never a placeholder or latest', () => {
      // Issue 19: an all-zero placeholder digest made `docker build .` fail as shipped.
      const base = args.get('NODE_IMAGE') ?? '';
      assert.match(base, /^node:20(\.\d+){0,2}-[a-z0-9]+-slim(@sha256:[0-9a-f]{64})?$/, `NODE_IMAGE=${base}`);
      assert.doesNotMatch(base, /@sha256:0{64}$/, 'the digest is a placeholder that pulls nothing');
      assert.match(text, /imagetools inspect|crane digest/, 'no comment on how to pin the digest');
      for (const s of st) {
        assert.equal(s.image, base, 'every stage builds on the one NODE_IMAGE');
        assert.doesNotMatch(s.image, /latest/);
      }
      assert.doesNotMatch(text, /:latest\b/);
    });

    it('runs as a numeric non-root user in the final stage, with an exec-form entrypoint', () => {
      const users = (final?.body ?? []).filter((i) => i.op === 'USER').map((i) => i.args);
      assert.ok(users.length > 0, 'no USER in the final stage');
      for (const u of users) {
        const m = /^(\d+)(?::(\d+))?$/.exec(u);
        assert.ok(m, `USER ${u} is not numeric (runAsNonRoot cannot check a name)`);
        assert.notEqual(Number(m[1]), 0, 'USER 0 is root');
        if (m[2] !== undefined) assert.notEqual(Number(m[2]), 0, 'group 0');
      }
      const entry = (final?.body ?? []).find((i) => i.op === 'ENTRYPOINT');
      assert.ok(entry, 'no ENTRYPOINT');
      assert.ok(
        Array.isArray(JSON.parse(entry.args)),
        'ENTRYPOINT is not exec form (a shell would be PID 1 and swallow SIGTERM)',
      );
    });

    it('installs production dependencies only in what ships', () => {
      const shipped = new Set(
        (final?.body ?? [])
          .filter((i) => i.op === 'COPY')
          .map((i) => /--from=(\S+)/.exec(i.args)?.[1])
          .filter(Boolean),
      );
      for (const s of st) {
        const installs = s.body.filter((i) => i.op === 'RUN' && /\bnpm (ci|install)\b/.test(i.args));
        const copiedNodeModules = (final?.body ?? []).some(
          (i) => i.op === 'COPY' && i.args.includes(`--from=${s.name}`) && i.args.includes('node_modules'),
        );
        if (s === final || copiedNodeModules)
          for (const i of installs) assert.match(i.args, /--omit=dev/, `${s.name ?? 'final'}: ${i.args}`);
      }
      // Whatever ships from a stage that installed dev dependencies must be build output, not node_modules.
      for (const i of (final?.body ?? []).filter((x) => x.op === 'COPY' && x.args.includes('node_modules'))) {
        const from = /--from=(\S+)/.exec(i.args)?.[1];
        const stage = st.find((s) => s.name === from);
        assert.ok(
          stage?.body.some((x) => x.op === 'RUN' && /--omit=dev/.test(x.args)),
          `node_modules copied from ${from}, which did not omit dev dependencies`,
        );
      }
      assert.ok(shipped.size > 0);
    });
  });
}

describe('.dockerignore', () => {
  it('keeps host node_modules, build output and .git out of the build context', () => {
    const lines = readFileSync(`${root}.dockerignore`, 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.git']) assert.ok(lines.includes(p), `${p} not ignored`);
  });
});
