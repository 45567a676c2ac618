import { strict as assert } from 'node:assert';
import { errorMessage } from './errors.js';

describe('errorMessage', () => {
  it('is the message of an Error and the string of anything else thrown', () => {
    assert.equal(errorMessage(new RangeError('too big')), 'too big');
    assert.equal(errorMessage('plain'), 'plain');
    assert.equal(errorMessage(42), '42');
    assert.equal(errorMessage(undefined), 'undefined');
  });
});
