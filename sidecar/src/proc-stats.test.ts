import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { parseStat, readProcessStats } from './proc-stats.js';

describe('sidecar process stats', () => {
  it('parses /proc/<pid>/stat with spaces and parentheses in the command', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    const line = `42 (my (odd) app) ${fields.join(' ')}`;
    // Field n (1-based) holds the value n here, so utime=14, stime=15, threads=20, rss=24.
    assert.deepEqual(parseStat(line), { utime: 14, stime: 15, threads: 20, rssPages: 24 });
    assert.equal(parseStat('garbage'), null);
  });

  it('reads a real process matched by its command line', async () => {
    const marker = `bulkhead-proc-test-${process.pid}`;
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker], { stdio: 'ignore' });
    try {
      await new Promise<void>((ok) => child.once('spawn', () => ok()));
      let stats = await readProcessStats({ match: marker });
      for (let i = 0; i < 50 && !stats; i++) stats = await readProcessStats({ match: marker });
      assert.ok(stats, 'the child was found');
      assert.equal(stats.count, 1);
      assert.ok(stats.rssBytes > 1024 * 1024, `rss ${stats.rssBytes}`);
      assert.ok(stats.threads >= 1);
      assert.ok(stats.openFds >= 3);
      assert.equal(await readProcessStats({ match: `${marker}-nothing-matches` }), undefined);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
