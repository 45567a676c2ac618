import { strict as assert } from 'node:assert';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { readBoundedBody, readJsonBody } from './bounded-body.js';
import { HttpError } from './http-error.js';

/** A request stream with headers, written in `chunks`. */
function request(headers: Record<string, string>, chunks: string[]): IncomingMessage {
  const s = new PassThrough();
  for (const c of chunks) s.write(c);
  s.end();
  return Object.assign(s, { headers }) as unknown as IncomingMessage;
}

const status = async (p: Promise<unknown>): Promise<number> =>
  p.then(
    () => 0,
    (err: unknown) => (err instanceof HttpError ? err.status : -1),
  );

describe('bounded request bodies', () => {
  it('reads a body up to the limit, in one or many chunks', async () => {
    assert.equal((await readBoundedBody(request({}, ['abc', 'def']), 6)).toString(), 'abcdef');
    assert.equal((await readBoundedBody(request({}, []), 6)).length, 0);
  });

  it('413s a declared length over the limit, and a chunked body once it crosses it', async () => {
    assert.equal(await status(readBoundedBody(request({ 'content-length': '7' }, ['abcdefg']), 6)), 413);
    assert.equal(await status(readBoundedBody(request({}, ['abcd', 'efg']), 6)), 413);
  });

  it('JSON: 415 without a JSON content-type, 400 when it does not parse, else the value', async () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };
    assert.equal(await status(readJsonBody(request({ 'content-type': 'text/plain' }, ['{}']), 100)), 415);
    assert.equal(await status(readJsonBody(request(json, ['{"a":']), 100)), 400);
    assert.deepEqual(await readJsonBody(request(json, ['{"a":', '1}']), 100), { a: 1 });
  });
});
