// Reads at most `max + 1` bytes, so a 10 GiB file costs 1 MiB of memory to reject (a stat()
// alone could be raced by a file that grows between stat and read).
import { open } from 'node:fs/promises';

export async function readBounded(
  path: string,
  max: number,
): Promise<{ bytes: Uint8Array; tooLarge: boolean; size: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > max) return { bytes: new Uint8Array(0), tooLarge: true, size };
    let buf = Buffer.allocUnsafe(size + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        // The file grew since fstat: grow the buffer, never past the limit.
        const bigger = Buffer.allocUnsafe(Math.min(max + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > max) return { bytes: new Uint8Array(0), tooLarge: true, size: n };
    }
    return { bytes: buf.subarray(0, n), tooLarge: false, size: n };
  } finally {
    await fh.close();
  }
}
