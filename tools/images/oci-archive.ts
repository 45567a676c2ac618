import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from './exec.js';

/** One uncompressed layer tar and its digest (for an uncompressed layer the diff_id is the same). */
export interface Layer {
  path: string;
  digest: string;
  size: number;
}

export interface ImageConfig {
  user: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  exposedPorts: number[];
}

const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

const sha256 = (data: string | Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/**
 * Tars a staging folder into a layer the same way every time (sorted names, mtime 0, root
 * owner, no atime/ctime), so unchanged contents give an unchanged digest and containerd keeps
 * one copy of a layer shared by several images.
 */
export async function tarLayer(stagingDir: string, out: string): Promise<Layer> {
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  await run('tar', [
    '--create',
    '--file',
    tmp,
    '--directory',
    stagingDir,
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '.',
  ]);
  await run('mv', ['-f', tmp, out]);
  return layerOf(out);
}

export async function layerOf(path: string): Promise<Layer> {
  return { path, digest: await sha256File(path), size: (await stat(path)).size };
}

/**
 * Writes an OCI image layout (oci-layout, index.json, blobs/) for one image and packs it as
 * the tar archive `ctr images import` reads. The index names the image with containerd's
 * `io.containerd.image.name` annotation, so the import lands under exactly `ref`, the
 * reference the manifests and the injector use.
 */
export async function writeOciArchive(ref: string, layers: Layer[], config: ImageConfig, out: string): Promise<void> {
  const dir = await mkdtemp(join(dirname(out), '.oci-'));
  try {
    const blobs = join(dir, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const blob = async (digest: string, data: string | Buffer) => writeFile(join(blobs, digest.slice(7)), data);
    for (const l of layers) await copyFile(l.path, join(blobs, l.digest.slice(7)));
    const configJson = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {
        User: config.user,
        WorkingDir: config.workdir,
        Env: [
          'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          ...Object.entries(config.env).map(([k, v]) => `${k}=${v}`),
        ],
        Entrypoint: config.entrypoint,
        ...(config.cmd.length ? { Cmd: config.cmd } : {}),
        ...(config.exposedPorts.length
          ? { ExposedPorts: Object.fromEntries(config.exposedPorts.map((p) => [`${p}/tcp`, {}])) }
          : {}),
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      history: layers.map(() => ({ created_by: 'bulkhead tools/images' })),
    });
    const configDigest = sha256(configJson);
    await blob(configDigest, configJson);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: CONFIG_TYPE, digest: configDigest, size: Buffer.byteLength(configJson) },
      layers: layers.map((l) => ({ mediaType: LAYER_TYPE, digest: l.digest, size: l.size })),
    });
    const manifestDigest = sha256(manifest);
    await blob(manifestDigest, manifest);
    const tag = ref.slice(ref.lastIndexOf(':') + 1);
    await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: INDEX_TYPE,
        manifests: [
          {
            mediaType: MANIFEST_TYPE,
            digest: manifestDigest,
            size: Buffer.byteLength(manifest),
            platform: { architecture: 'amd64', os: 'linux' },
            annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
    const tmp = `${out}.${process.pid}.tmp`;
    await run('tar', ['--create', '--file', tmp, '--directory', dir, 'oci-layout', 'index.json', 'blobs']);
    await run('mv', ['-f', tmp, out]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
