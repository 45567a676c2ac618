// The real-node demo (what `npm start` runs as root on Linux), end to end through its story
// function: it builds the images, starts its own 2-node cluster, serves the policy repository
// over HTTPS and installs the engine with `bulkhead install`, then one checkout pod fails.
// Kept alive until the assertions ran (keep + until), so the bare repository and the cluster
// can be checked while they exist; then the story stops and removes everything it created.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { runRealStory } from '../../tools/demo/real-story.js';
import type { StoryResult } from '../../tools/demo/story.js';

const run = promisify(execFile);

describe('npm start on real nodes (the real-node story)', function () {
  this.timeout(900_000);

  it('quarantines the failing checkout pod, its replacement runs on a real node, the record is a commit in the bare repo', async () => {
    const lines: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    let checks: Promise<void> | undefined;
    let kubeconfig = '';
    let bareRepo = '';
    const nodes: string[] = [];
    const check = async (): Promise<void> => {
      try {
        // While the story keeps running: the record's commit is in the repository the engine pushed to.
        const commit = /✔ record committed to the policy repository: ([0-9a-f]{7,}) /.exec(lines.join('\n'))?.[1];
        assert.ok(commit, 'the story printed the record commit');
        const subject = (
          await run('git', ['--git-dir', bareRepo, 'log', '-1', '--format=%s', commit], {
            env: { PATH: process.env.PATH ?? '', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_SYSTEM: '/dev/null' },
          })
        ).stdout.trim();
        assert.match(subject, /^quarantine: shop\/checkout-/);
        assert.ok(existsSync(kubeconfig), 'the cluster is still up while kept');
      } finally {
        release();
      }
    };
    const result: StoryResult = await runRealStory({
      keep: true,
      until: held,
      say: (line) => {
        lines.push(line);
        process.stderr.write(`  [demo] ${line}\n`);
        const up = /✔ cluster up at \S+ in \S+: nodes (\S+), (\S+), images imported/.exec(line);
        if (up) nodes.push(up[1]!, up[2]!);
        const exp = /export KUBECONFIG=(\S+);/.exec(line);
        if (exp) {
          kubeconfig = exp[1]!;
          checks = check();
        }
        const repo = /cd (\S+) && git pull/.exec(line);
        if (repo) bareRepo = repo[1]!.replace(/work$/, 'origin.git');
      },
    });
    await checks;
    const out = lines.join('\n');
    assert.equal(result.nodes, 'real');
    assert.match(result.quarantinedPod, /^checkout-/);
    assert.match(out, new RegExp(`▸ ${result.quarantinedPod} \\(on \\S+\\) starts failing`));
    assert.match(out, /✔ sidecar injected into 4 pods as a native sidecar/);
    assert.match(out, /✔ pod quarantined [\d.]+s after its app started failing/);
    assert.match(out, new RegExp(`✔ the client's requests to ${result.quarantinedPod} now fail`));
    assert.notEqual(result.replacementPod, result.quarantinedPod);
    assert.ok(
      nodes.includes(result.replacementNode),
      `replacement on ${result.replacementNode}, nodes ${nodes.join(', ')}`,
    );
    assert.match(out, new RegExp(`✔ replacement ${result.replacementPod} Running on ${result.replacementNode}`));
    assert.match(result.recordCommit, /^[0-9a-f]{40}$/);
    assert.ok(result.dashboardUrl?.includes('/dashboard/?token='));
    // Everything the story created is gone: its work directory (repository, images, cluster files).
    assert.ok(!existsSync(kubeconfig), `${kubeconfig} left behind`);
    assert.ok(!existsSync(bareRepo), `${bareRepo} left behind`);
  });
});
