import { strict as assert } from 'node:assert';
import { outcomeOf } from './reporter.js';

describe('reporter reply outcomes', () => {
  it('2xx delivers; 400, 413, 422 reject the batch for good', () => {
    assert.equal(outcomeOf(202), 'delivered');
    for (const s of [400, 413, 422]) assert.equal(outcomeOf(s), 'rejected');
  });
  it('421 (a replica that is not the leader) is followed, never a drop', () => {
    assert.equal(outcomeOf(421), 'misdirected');
  });
  it('503 (no leader yet), 401, 429 and other errors back off and keep the batch', () => {
    for (const s of [401, 403, 429, 500, 503, 0]) assert.equal(outcomeOf(s), 'retry');
  });
});
