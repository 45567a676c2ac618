import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../test/harness/eventually.js';
import { DirSource } from './dir-source.js';

describe('DirSource (chokidar)', () => {
  let dir: string;
  let src: DirSource;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-dir-'));
    src = new DirSource(dir, 50);
  });
  afterEach(async () => {
    await src.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes YAML content: same content → same revision, and non-YAML files are ignored', async () => {
    await writeFile(join(dir, 'a.yaml'), 'a: 1\n');
    const r1 = (await src.snapshot()).revision;
    await writeFile(join(dir, 'notes.txt'), 'hello');
    assert.equal((await src.snapshot()).revision, r1);
    await writeFile(join(dir, 'a.yaml'), 'a: 2\n');
    assert.notEqual((await src.snapshot()).revision, r1);
  });

  it('calls back once per burst of YAML changes, including in subfolders', async () => {
    let calls = 0;
    await src.watch(() => calls++);
    await mkdir(join(dir, 'team'), { recursive: true });
    await writeFile(join(dir, 'team', 'b.yaml'), 'b: 1\n');
    await writeFile(join(dir, 'c.yml'), 'c: 1\n');
    await eventually(() => assert.ok(calls >= 1), { timeoutMs: 5000, what: 'change callback' });
  });
});
