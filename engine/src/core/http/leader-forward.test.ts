import { strict as assert } from 'node:assert';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { silentLogger } from '../logger.js';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../pki.js';
import { createLeaderForward, FORWARDED_BY_HEADER, SERVED_BY_HEADER } from './leader-forward.js';
import { serveHereOrForward, type LeaderView } from './leader-gate.js';

const SERVICE = 'bulkhead-engine.bulkhead-system.svc';

describe('a follower forwards leader-only requests to the leader (ADR 1501)', function () {
  this.timeout(20_000);
  let ca: KeyPair;
  let leader: HttpsServer;
  let leaderUrl: string;
  let follower: Server;
  let followerUrl: string;
  const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
  let view: LeaderView;

  before(async () => {
    ca = await createCertificateAuthority('forward-test', 1);
    // The shared serving certificate names the Service, not the address it is dialled at.
    const serving = await issueCertificate(ca, {
      commonName: SERVICE,
      dnsNames: [SERVICE],
      usage: 'server',
      validForDays: 1,
    });
    leader = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(202, { 'content-type': 'application/json', 'x-answer': 'leader' });
        res.end(JSON.stringify({ accepted: true }));
      });
    });
    await new Promise<void>((ok) => leader.listen(0, '127.0.0.1', ok));
    leaderUrl = `https://127.0.0.1:${(leader.address() as AddressInfo).port}`;
    view = {
      isLeader: () => false,
      holder: () => 'engine-a',
      holderUrl: () => leaderUrl,
      forward: createLeaderForward({
        ca: () => ca.cert,
        serverName: SERVICE,
        identity: 'engine-b',
        leader: () => 'engine-a',
        logger: silentLogger(),
      }),
    };
    const app = new Koa();
    app.use(async (ctx) => {
      const body = ctx.path === '/pre-read' ? Buffer.from('signed bytes') : undefined;
      const r = await serveHereOrForward(
        ctx,
        ctx.get('x-view') === 'leader' ? { ...view, isLeader: () => true } : view,
        'tests',
        body,
      );
      if (!r) ctx.body = { servedHere: true };
    });
    follower = createHttpServer(app.callback());
    await new Promise<void>((ok) => follower.listen(0, '127.0.0.1', ok));
    followerUrl = `http://127.0.0.1:${(follower.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((ok) => leader.close(() => ok()));
    await new Promise<void>((ok) => follower.close(() => ok()));
  });

  it('relays method, path, query, credentials and body, and the answer as the leader gave it', async () => {
    const res = await fetch(`${followerUrl}/api/v1/verdicts?x=1`, {
      method: 'POST',
      headers: { authorization: 'Bearer caller-token', 'content-type': 'application/json' },
      body: '{"pod":"p"}',
    });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { accepted: true });
    assert.equal(res.headers.get('x-answer'), 'leader');
    assert.equal(res.headers.get(SERVED_BY_HEADER), 'engine-a');
    const got = seen.at(-1)!;
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/api/v1/verdicts?x=1');
    assert.equal(got.headers.authorization, 'Bearer caller-token', "the caller's own credential");
    assert.equal(got.headers[FORWARDED_BY_HEADER], 'engine-b');
    assert.equal(got.body, '{"pod":"p"}');
  });
  it('a body already read (a push hook checked its signature) is relayed byte for byte', async () => {
    await fetch(`${followerUrl}/pre-read`, { method: 'POST', body: 'ignored: already consumed' });
    assert.equal(seen.at(-1)!.body, 'signed bytes');
  });
  it('the leader serves locally; a request already forwarded once is refused (421), never forwarded again', async () => {
    const here = await fetch(`${followerUrl}/x`, { headers: { 'x-view': 'leader' } });
    assert.deepEqual(await here.json(), { servedHere: true });
    const n = seen.length;
    const twice = await fetch(`${followerUrl}/api/v1/verdicts`, {
      method: 'POST',
      headers: { [FORWARDED_BY_HEADER]: 'engine-c' },
      body: '{}',
    });
    assert.equal(twice.status, 421);
    assert.equal(seen.length, n, 'no second hop');
  });
  it('a leader it cannot verify (another CA) or reach is 503 with Retry-After, nothing relayed', async () => {
    const other = await createCertificateAuthority('other', 1);
    const saved = view.forward;
    view.forward = createLeaderForward({
      ca: () => other.cert,
      serverName: SERVICE,
      identity: 'engine-b',
      leader: () => 'engine-a',
      logger: silentLogger(),
    });
    try {
      const n = seen.length;
      const res = await fetch(`${followerUrl}/api/v1/verdicts`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '2');
      assert.equal(seen.length, n);
    } finally {
      view.forward = saved;
    }
  });
});
