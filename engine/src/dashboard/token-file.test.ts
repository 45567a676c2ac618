import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BulkheadError } from '../core/errors.js';
import { normalizeToken, readDashboardToken } from './token-file.js';

describe('dashboard token file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bh-dash-token-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads the token without its trailing newline', async () => {
    await writeFile(join(dir, 'ok'), 'abcdefghijklmnopqrstuvwxyz\n');
    assert.equal(await readDashboardToken(join(dir, 'ok')), 'abcdefghijklmnopqrstuvwxyz');
  });

  it('refuses a short token and an unreadable file without echoing any content', async () => {
    await writeFile(join(dir, 'short'), ' secret-ish \n');
    await assert.rejects(
      readDashboardToken(join(dir, 'short')),
      (e: unknown) =>
        e instanceof BulkheadError && e.code === 'BH_DASHBOARD_WEAK_TOKEN' && !e.message.includes('secret-ish'),
    );
    await assert.rejects(
      readDashboardToken(join(dir, 'missing')),
      (e: unknown) => e instanceof BulkheadError && e.code === 'BH_DASHBOARD_TOKEN_FILE' && /ENOENT/.test(e.message),
    );
    assert.throws(() => normalizeToken('   '), /at least 16/);
  });
});
