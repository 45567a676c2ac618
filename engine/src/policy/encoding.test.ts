import assert from 'node:assert/strict';
import { decodePolicyText } from './encoding.js';

const at = (bytes: number[] | string): string => {
  const r = decodePolicyText(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Uint8Array.from(bytes));
  return r.ok ? `ok ${JSON.stringify(r.text)}` : `${r.line}:${r.column} ${r.message}`;
};

describe('decodePolicyText', () => {
  it('accepts UTF-8, multi-byte characters included, and drops a BOM', () => {
    assert.equal(at('a: café ✓\n'), 'ok "a: café ✓\\n"');
    assert.equal(at([0xef, 0xbb, 0xbf, 0x61]), 'ok "a"');
  });

  const bad: [string, number[], string][] = [
    ['a Latin-1 byte', [0x61, 0x0a, 0x62, 0xe9, 0x0a], '2:2 invalid UTF-8 byte 0xe9'],
    ['a truncated sequence at the end', [0x61, 0xe2, 0x82], '1:2 invalid UTF-8 byte 0xe2'],
    ['an overlong encoding of "/"', [0x61, 0xc0, 0xaf], '1:2 invalid UTF-8 byte 0xc0'],
    ['an encoded surrogate', [0x0a, 0x0a, 0xed, 0xa0, 0x80], '3:1 invalid UTF-8 byte 0xed'],
    ['a NUL byte (binary)', [0x61, 0x0a, 0x00], '2:1 file contains NUL bytes: it looks binary, not YAML'],
    [
      'a Latin-1 byte after lone-CR and CRLF breaks',
      [0x61, 0x0d, 0x62, 0x0d, 0x0a, 0xe9],
      '3:1 invalid UTF-8 byte 0xe9',
    ],
    ['UTF-16 LE', [0xff, 0xfe, 0x61, 0x00], '1:1 file is UTF-16 encoded'],
  ];
  for (const [name, bytes, want] of bad) it(`rejects ${name} at its position`, () => assert.equal(at(bytes), want));
});
