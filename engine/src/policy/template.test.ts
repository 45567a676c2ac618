// The policy-repo template is what teams copy: it must validate clean, with no warning.
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { readFile } from 'node:fs/promises';
import { CODES, loadPolicyDir, renderPolicies } from './index.js';

const template = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'policy-repo-template');

describe('policy-repo-template', () => {
  it('validates clean: three policies, settings, no diagnostics', async () => {
    const r = await loadPolicyDir(template);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(
      r.policies.map((p) => `${p.file}:${p.line} ${p.policy.metadata.name} ${p.policy.spec.action.type}`),
      [
        'policies/checkout-api.yaml:6 checkout-api Quarantine',
        'policies/queue-worker.yaml:4 queue-worker Isolate',
        'policies/search-dryrun.yaml:4 search-error-rate Quarantine',
      ],
    );
    assert.equal(r.settings?.defaults?.mode, 'DryRun');
  });

  it('renders deterministically, with the source location and no managed-by label (the GitOps tool manages them)', async () => {
    const r = await loadPolicyDir(template);
    const once = renderPolicies(r.policies);
    assert.equal(renderPolicies([...r.policies].reverse()), once, 'order-independent');
    const docs = loadAll(once) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    }[];
    assert.equal(docs.length, 3);
    assert.equal(docs[0]!.metadata.labels['app.kubernetes.io/managed-by'], undefined);
    assert.equal(docs[0]!.metadata.labels.team, 'payments', 'author labels are kept');
    assert.equal(docs[0]!.metadata.annotations['bulkhead.dev/source'], 'policies/checkout-api.yaml:6');
    const withRepo = loadAll(
      renderPolicies(r.policies, undefined, { sourceRepo: 'https://t:x@git.example/p.git' }),
    ) as {
      metadata: { annotations: Record<string, string> };
    }[];
    assert.equal(withRepo[0]!.metadata.annotations['bulkhead.dev/source-repo'], 'https://***@git.example/p.git');
    const modes = (loadAll(renderPolicies(r.policies, r.settings)) as { spec: { action: { mode?: string } } }[]).map(
      (d) => d.spec.action.mode,
    );
    assert.deepEqual(
      modes,
      ['Enforce', 'DryRun', 'DryRun'],
      'queue-worker gets the repository default (DryRun); explicit modes stay',
    );
  });

  it('documents every diagnostic code in its README', async () => {
    const readme = await readFile(join(template, 'README.md'), 'utf8');
    const missing = Object.keys(CODES).filter((c) => !readme.includes(`| \`${c}\` |`));
    assert.deepEqual(missing, []);
  });
});
