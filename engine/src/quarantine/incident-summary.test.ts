import { strict as assert } from 'node:assert';
import { incidentSummary } from './executor.js';
import type { TakenAction } from './taken-action.js';

const t = (
  pod: string,
  action: TakenAction['action'],
  role: TakenAction['role'],
  outcome: TakenAction['outcome'] = 'done',
): TakenAction => ({
  pod,
  namespace: 'shop',
  action,
  role,
  outcome,
});
const incident = { scope: 'owner', value: 'web-7d9', key: 'owner/shop/web-7d9' } as never;

describe('incidentSummary: one Event per incident on the HealthPolicy', () => {
  it('names the failing pod and folds every similar sibling into the same line', () => {
    const e = incidentSummary({ mode: 'Enforce', incident }, [
      t('web-1', 'Quarantine', 'primary'),
      t('web-2', 'Alert', 'similar'),
      t('web-3', 'Alert', 'similar'),
    ]);
    assert.deepEqual(e, {
      type: 'Warning',
      reason: 'Incident',
      message: 'incident owner web-7d9: quarantine shop/web-1; similar pods: alert shop/web-2, shop/web-3',
    });
  });

  it('says "would" in DryRun (Normal), flags failures, and is silent when everything was done before', () => {
    const dry = incidentSummary({ mode: 'DryRun', incident }, [t('web-1', 'Quarantine', 'primary', 'dry-run')]);
    assert.equal(dry?.type, 'Normal');
    assert.match(dry!.message, /would quarantine shop\/web-1/);
    const failed = incidentSummary({ mode: 'Enforce', incident }, [t('web-1', 'Isolate', 'primary', 'failed')]);
    assert.equal(failed?.reason, 'IncidentActionFailed');
    assert.match(failed!.message, /isolate \(failed\) shop\/web-1/);
    assert.equal(
      incidentSummary({ mode: 'Enforce', incident }, [t('web-1', 'Quarantine', 'primary', 'already')]),
      undefined,
    );
  });

  it('keeps the line short with many siblings', () => {
    const many = Array.from({ length: 30 }, (_, i) => t(`s-${i}`, 'Alert', 'similar'));
    const e = incidentSummary({ mode: 'Enforce', incident }, [t('web-1', 'Quarantine', 'primary'), ...many]);
    assert.match(e!.message, /and 25 more$/);
  });
});
