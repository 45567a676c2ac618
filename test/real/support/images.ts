import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildImages } from '../../../tools/images/build-images.js';
import type { NodeImage } from '../../../tools/local-cluster/index.js';

let built: Promise<NodeImage[]> | undefined;

/** The project's images, built once per test run from the working tree (base layers cached). */
export function buildProjectImages(say: (l: string) => void): Promise<NodeImage[]> {
  built ??= buildImages({ outDir: join(tmpdir(), `bulkhead-test-images-${process.pid}`), onProgress: say }).then((b) =>
    b.map(({ ref, archive }) => ({ ref, archive })),
  );
  return built;
}
