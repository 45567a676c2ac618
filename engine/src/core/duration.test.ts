import { strict as assert } from 'node:assert';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  const ok: [string, number][] = [
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ];
  for (const [text, ms] of ok) it(`${text} → ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  for (const bad of ['', '10', 's', '10x', '5m ', '-1s', 'm5'])
    it(`rejects "${bad}"`, () => assert.throws(() => parseDuration(bad), RangeError));
});
