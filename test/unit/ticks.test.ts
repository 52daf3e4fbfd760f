// Axis ticks of the weights view's charts at round numbers (the issue saw counts tick at 0/2/4/5/7).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logTicks, roundTicks } from '../../webview/weights/ticks';

describe('chart ticks', () => {
  it('linear counts: 0 and multiples of 1, 2 or 5 times a power of ten, up to the peak', () => {
    assert.deepEqual(roundTicks(7), [0, 2, 4, 6]);
    assert.deepEqual(roundTicks(606_000), [0, 200_000, 400_000, 600_000]);
    assert.deepEqual(roundTicks(100), [0, 20, 40, 60, 80, 100]);
    assert.deepEqual(roundTicks(3), [0, 1, 2, 3]);
    assert.deepEqual(roundTicks(0), [0]);
    for (const peak of [1, 9, 13, 57, 1234, 98_765, 4_718_592]) {
      const t = roundTicks(peak);
      assert.ok(t.length >= 2 && t.length <= 9 && t[t.length - 1] <= peak, `${peak}: ${t}`);
      const step = t[1] - t[0];
      assert.ok(/^(1|2|5)0*$/.test(String(step)), `${peak}: step ${step}`);
    }
  });

  it('log counts: 0 and powers of ten up to the peak', () => {
    assert.deepEqual(logTicks(606_000), [0, 1, 10, 100, 1000, 10_000, 100_000]);
    assert.deepEqual(logTicks(5), [0, 1]);
    assert.deepEqual(logTicks(0), [0]);
  });
});
