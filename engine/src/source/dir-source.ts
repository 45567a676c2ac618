import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Artifact } from './git-source.js';

const isPolicyFile = (p: string): boolean => /\.ya?ml$/.test(p);

/**
 * A local folder as a source, for development: `bulkhead run --dir ./policies` re-applies on
 * every save. The revision is a content hash of the YAML files (there is no commit), so an
 * editor's save-without-change is no work. File events are debounced into one callback.
 */
export class DirSource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    private readonly debounceMs = 200,
  ) {}

  async snapshot(): Promise<Artifact> {
    const files = (await listYaml(this.dir)).sort();
    const h = createHash('sha256');
    for (const f of files) {
      h.update(relative(this.dir, f))
        .update('\0')
        .update(await readFile(f))
        .update('\0');
    }
    const digest = h.digest('hex');
    return { revision: `sha256:${digest}`, pathTree: digest, dir: this.dir, fetchedAt: new Date() };
  }

  /**
   * Calls `onChange` (debounced) when a YAML file under the folder is added, changed or
   * removed. Resolves once the initial scan is done and changes are being seen.
   */
  watch(onChange: () => void): Promise<void> {
    this.watcher = watch(this.dir, {
      ignoreInitial: true,
      ignored: (p, stats) => !!stats?.isFile() && !isPolicyFile(p),
      awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
    });
    const fire = (): void => {
      clearTimeout(this.timer);
      this.timer = setTimeout(onChange, this.debounceMs);
    };
    this.watcher.on('add', fire).on('change', fire).on('unlink', fire).on('unlinkDir', fire);
    const w = this.watcher;
    return new Promise((ok) => w.once('ready', () => ok()));
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
  }
}

async function listYaml(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listYaml(p)));
    else if (e.isFile() && isPolicyFile(e.name)) out.push(p);
  }
  return out;
}
