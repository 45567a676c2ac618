import { strict as assert } from 'node:assert';
import { LEADER_HEADER, notLeader, type LeaderView } from './leader-gate.js';

const view = (isLeader: boolean, holder: string | undefined): LeaderView => ({
  isLeader: () => isLeader,
  holder: () => holder,
});

describe('leader gate', () => {
  it('lets the leader serve, and a process with no leader view (single replica)', () => {
    assert.equal(notLeader(view(true, 'engine-a'), 'verdicts'), undefined);
    assert.equal(notLeader(undefined, 'verdicts'), undefined);
  });
  it('a follower answers 421 naming the Lease holder, in the header and the body', () => {
    const r = notLeader(view(false, 'engine-a'), 'report ingest');
    assert.ok(r);
    assert.equal(r.status, 421);
    assert.equal(r.headers[LEADER_HEADER], 'engine-a');
    assert.equal(r.body.leader, 'engine-a');
    assert.equal(r.body.reason, 'NotLeader');
    assert.match(r.body.message, /report ingest/);
  });
  it('with no leader known, 503 with Retry-After and no pointer', () => {
    const r = notLeader(view(false, undefined), 'verdicts', 5);
    assert.ok(r);
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '5');
    assert.equal(r.headers[LEADER_HEADER], undefined);
    assert.equal(r.body.leader, undefined);
  });
});
