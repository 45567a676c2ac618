import { strict as assert } from 'node:assert';
import { CaTrust, isTlsVerifyError, parseBundle } from './ca-trust.js';
import { createLog } from './log.js';

// Two self-signed fixture CAs (openssl, EC P-256, valid until 2126): only parsed here, never
// used to verify a connection (test/integration/sidecar-reporter.test.ts does that).
const CA_A = `-----BEGIN CERTIFICATE-----
MIIBhjCCASugAwIBAgIUNegyCzjyy7bJ/DGwxa79lKkXs0swCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMZml4dHVyZS1jYS1hMCAXDTI2MTIwMjAxMjA0M1oYDzIxMjYx
MTA4MDEyMDQzWjAXMRUwEwYDVQQDDAxmaXh0dXJlLWNhLWEwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAQl/XWDzjDHVLIFsQcrkcXXUAM4qOWmAWhVLR4LolM0CESX
l44cNFBIjsC0GAu9XqCvXiCQAnnxcnXAmPNXkcClo1MwUTAdBgNVHQ4EFgQUiebq
R6kwoIAZLLKEc5ylWnrpHXAwHwYDVR0jBBgwFoAUiebqR6kwoIAZLLKEc5ylWnrp
HXAwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAqfIhvEdSh+Q2
bp8t0sfOAyQudbA06UppwCRVHXtrVBcCIQCxwsdXKPe+e3YINtGGwrb5IRbbrgsy
3g7aLv1i0LUsvg==
-----END CERTIFICATE-----\n`;
const CA_B = `-----BEGIN CERTIFICATE-----
MIIBhTCCASugAwIBAgIUROyz4/D5R3Gv0+GuiYomn7gPq1owCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMZml4dHVyZS1jYS1iMCAXDTI2MTIwMjAxMjA0M1oYDzIxMjYx
MTA4MDEyMDQzWjAXMRUwEwYDVQQDDAxmaXh0dXJlLWNhLWIwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAARAzREQ8tSG9vMbtemBce3oA7Tmk8ccfhZfP3+6lzA16qyn
dY6SiNlK/Eg2bjyUpKC8Atc/9lg+4d46TvtGUwWSo1MwUTAdBgNVHQ4EFgQUKLSY
gWDxPUEQd8AUONMH69WVVkAwHwYDVR0jBBgwFoAUKLSYgWDxPUEQd8AUONMH69WV
VkAwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAztQUPenk7Lsy
/2u4uFzJFE3VEajRBPRcrCINJPTMb7ECIGtNOyW3XfuTrsxGocz06JDUFHeKtsPS
dstf0OU9dfbg
-----END CERTIFICATE-----\n`;

function harness(): {
  files: Map<string, string>;
  reads: () => number;
  clock: { t: number };
  lines: { level: number; msg: string }[];
  trust: CaTrust;
} {
  const files = new Map<string, string>();
  let reads = 0;
  const clock = { t: 0 };
  const lines: { level: number; msg: string }[] = [];
  const trust = new CaTrust({
    path: '/ca/ca.crt',
    log: createLog('debug', (l) => void lines.push(JSON.parse(l) as { level: number; msg: string })),
    maxAgeMs: 10_000,
    now: () => clock.t,
    read: async (p) => {
      reads++;
      const text = files.get(p);
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return text;
    },
  });
  return { files, reads: () => reads, clock, lines, trust };
}

describe('sidecar CA trust', () => {
  it('parses the certificates of a bundle, skipping what is not one', () => {
    assert.equal(parseBundle(`${CA_A}${CA_B}`).length, 2);
    assert.equal(parseBundle('').length, 0);
    assert.equal(parseBundle('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n').length, 0);
    assert.deepEqual(parseBundle(`junk\r\n${CA_A}`), parseBundle(CA_A));
  });

  it('knows a verification failure from other connection errors', () => {
    assert.ok(isTlsVerifyError({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }));
    assert.ok(isTlsVerifyError({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }));
    assert.ok(!isTlsVerifyError({ code: 'ECONNREFUSED' }));
    assert.ok(!isTlsVerifyError(undefined));
  });

  it('without the file there is no agent (never the system store), logged once; it starts once the file appears', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) {
      const t = await h.trust.current();
      assert.equal(t.ok, false);
      if (!t.ok) assert.match(t.reason, /not there yet/);
    }
    assert.equal(h.reads(), 5, 'with no agent every attempt reads again (the reporter backs off between them)');
    assert.equal(h.lines.filter((l) => /not reporting until it appears/.test(l.msg)).length, 1);
    h.files.set('/ca/ca.crt', CA_A);
    const t = await h.trust.current();
    assert.ok(t.ok);
    assert.ok(h.lines.some((l) => l.msg === 'engine CA loaded'));
    h.trust.close();
  });

  it('re-reads at most every maxAgeMs, and keeps the agent while the bundle is the same', async () => {
    const h = harness();
    h.files.set('/ca/ca.crt', CA_A);
    const first = await h.trust.current();
    assert.ok(first.ok);
    h.clock.t = 9_999;
    await h.trust.current();
    assert.equal(h.reads(), 1, 'not re-read within maxAgeMs');
    h.clock.t = 10_000;
    const again = await h.trust.current();
    assert.equal(h.reads(), 2);
    assert.ok(again.ok);
    assert.equal(again.agent, first.agent, 'same bundle: same agent (its keep-alive connection stays)');
    h.trust.close();
  });

  it('a rotated bundle (old + new CA) gets a new agent that trusts both', async () => {
    const h = harness();
    h.files.set('/ca/ca.crt', CA_A);
    const first = await h.trust.current();
    h.files.set('/ca/ca.crt', `${CA_A}${CA_B}`);
    h.clock.t = 10_000;
    const next = await h.trust.current();
    assert.ok(first.ok && next.ok);
    assert.notEqual(next.agent, first.agent);
    assert.equal(String(next.agent.options.ca), `${CA_A}${CA_B}`);
    assert.ok(h.lines.some((l) => l.msg === 'engine CA changed; new connections use it'));
    h.trust.close();
  });

  it('after a verification failure the next request re-reads the file at once', async () => {
    const h = harness();
    h.files.set('/ca/ca.crt', CA_A);
    await h.trust.current();
    h.files.set('/ca/ca.crt', CA_B);
    h.trust.verifyFailed();
    const t = await h.trust.current();
    assert.equal(h.reads(), 2);
    assert.ok(t.ok);
    assert.equal(String(t.agent.options.ca), CA_B);
    h.trust.close();
  });

  it('a file that goes away or turns empty keeps the CA read before, with one warning', async () => {
    const h = harness();
    h.files.set('/ca/ca.crt', CA_A);
    const first = await h.trust.current();
    h.files.delete('/ca/ca.crt');
    for (const t of [10_000, 20_000, 30_000]) {
      h.clock.t = t;
      const again = await h.trust.current();
      assert.ok(first.ok && again.ok);
      assert.equal(again.agent, first.agent);
    }
    h.files.set('/ca/ca.crt', '');
    h.clock.t = 40_000;
    assert.ok((await h.trust.current()).ok);
    const warnings = h.lines.filter((l) => l.level === 40).map((l) => l.msg);
    assert.equal(warnings.length, 2, warnings.join(' | '));
    assert.match(warnings[0]!, /not there yet .*; keeping the CA read before/);
    assert.match(warnings[1]!, /holds no certificate; keeping the CA read before/);
    h.trust.close();
  });
});
