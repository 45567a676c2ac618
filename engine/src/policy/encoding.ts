// Policy files must be UTF-8 text. A binary file or a Latin-1 file would otherwise reach the
// YAML parser as replacement characters and fail somewhere confusing, or worse, parse.
import { isUtf8 } from 'node:buffer';

export type Decoded =
  { ok: true; text: string } | { ok: false; message: string; hint: string; line: number; column: number };

/** Line (1-based) and column of a byte offset (LF, CRLF or lone CR breaks), counting bytes. */
function bytePosition(buf: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (buf[i] === 0x0a || (buf[i] === 0x0d && buf[i + 1] !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Offset of the first byte that breaks UTF-8 (only called once isUtf8 said it is broken). */
function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    const need =
      b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    // Overlong forms and surrogates: the decoder rejects them, so point at their lead byte.
    if (need > 0 && !isUtf8(buf.subarray(i, i + need + 1))) return i;
    i += need + 1;
  }
  return buf.length;
}

export function decodePolicyText(buf: Uint8Array): Decoded {
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
    return { ok: false, message: 'file is UTF-16 encoded', hint: 'save the file as UTF-8', line: 1, column: 1 };
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) {
    return {
      ok: false,
      message: 'file contains NUL bytes: it looks binary, not YAML',
      hint: 'only YAML text belongs under policies/',
      ...bytePosition(buf, nul),
    };
  }
  if (!isUtf8(buf)) {
    const at = firstInvalidUtf8(buf);
    return {
      ok: false,
      message: `invalid UTF-8 byte 0x${(buf[at] ?? 0).toString(16).padStart(2, '0')}`,
      hint: 'save the file as UTF-8',
      ...bytePosition(buf, at),
    };
  }
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
  return { ok: true, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
}
