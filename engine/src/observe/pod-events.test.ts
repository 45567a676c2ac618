import { strict as assert } from 'node:assert';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { podEvents } from './pod-events.js';

const NOW = new Date('2026-11-26T00:00:00Z');
const cs = (c: Partial<V1ContainerStatus>): V1ContainerStatus => ({
  name: 'app',
  image: 'x',
  imageID: '',
  ready: true,
  restartCount: 0,
  ...c,
});
const pod = (ready: boolean | undefined, containers: V1ContainerStatus[]): V1Pod => ({
  status: {
    ...(ready === undefined ? {} : { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] }),
    containerStatuses: containers,
  },
});

describe('observe podEvents', () => {
  const cases: [string, V1Pod | undefined, V1Pod, unknown[]][] = [
    ['first sighting of a healthy pod: nothing', undefined, pod(true, [cs({})]), []],
    ['first sighting of a not-ready pod', undefined, pod(false, [cs({})]), [{ type: 'NotReady' }]],
    [
      'a restart',
      pod(true, [cs({})]),
      pod(true, [cs({ restartCount: 1, lastState: { terminated: { exitCode: 1, reason: 'Error' } } })]),
      [{ type: 'Restarted', container: 'app', restartCount: 1, reason: 'Error', exitCode: 1 }],
    ],
    [
      'an OOM kill',
      pod(true, [cs({})]),
      pod(true, [cs({ restartCount: 1, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } })]),
      [{ type: 'OOMKilled', container: 'app', restartCount: 1, reason: 'OOMKilled', exitCode: 137 }],
    ],
    [
      'entering CrashLoopBackOff, once',
      pod(true, [cs({ restartCount: 2 })]),
      pod(false, [cs({ restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } })]),
      [{ type: 'CrashLoopBackOff', container: 'app', restartCount: 2 }, { type: 'NotReady' }],
    ],
    [
      'staying in CrashLoopBackOff: nothing new',
      pod(false, [cs({ state: { waiting: { reason: 'CrashLoopBackOff' } } })]),
      pod(false, [cs({ state: { waiting: { reason: 'CrashLoopBackOff' } } })]),
      [],
    ],
    ['ready again', pod(false, [cs({})]), pod(true, [cs({})]), [{ type: 'Ready' }]],
  ];
  for (const [name, before, after, want] of cases) {
    it(name, () => {
      const got = podEvents(before, after, NOW).map(({ time, ...rest }) => {
        assert.equal(time, NOW.toISOString());
        return rest;
      });
      assert.deepEqual(got, want);
    });
  }
});
