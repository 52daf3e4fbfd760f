// Edge labels of the graph view (webview/graph/labels.ts) on layout data: one per value and source, never
// two on top of each other, an If's fanned-out outputs each labelled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABEL_HEIGHT, placeLabels, type LabelInput, type PlacedLabel } from '../../webview/graph/labels';

const edge = (key: string, width: number, ...xy: number[]): LabelInput => ({ key, width, points: Float32Array.from(xy) });

function assertNoOverlap(placed: PlacedLabel[]): void {
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i], b = placed[j];
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || Math.abs(a.y - b.y) >= LABEL_HEIGHT;
      assert.ok(apart, `${a.key} at (${a.x}, ${a.y}) and ${b.key} at (${b.x}, ${b.y}) overlap`);
    }
  }
}

describe('edge labels', () => {
  it('two outputs of one box fanning out (an If) each get their label, apart', () => {
    const placed = placeLabels([
      edge('if:0', 90, 0, 0, -60, 100), edge('if:1', 110, 0, 0, 60, 100),
    ]);
    assert.deepEqual(placed.map((l) => l.key), ['if:0', 'if:1']);
    assertNoOverlap(placed);
  });

  it('one label per value and source, however many consumers', () => {
    const placed = placeLabels([edge('a:1', 60, 0, 0, 0, 80), edge('a:1', 60, 0, 0, 100, 80), edge('a:1', 60, 0, 0, -100, 80)]);
    assert.equal(placed.length, 1);
  });

  it('a crowd from one point: no two labels overlap; those with no free place are left out', () => {
    const inputs = Array.from({ length: 12 }, (_, i) => edge(`s:${i}`, 120, 0, 0, 0, 60));
    const placed = placeLabels(inputs);
    assertNoOverlap(placed);
    assert.ok(placed.length >= 3 && placed.length < 12, `${placed.length} placed`);
  });

  it('apart edges keep the first place (the middle of the first stretch, to its right)', () => {
    const [l] = placeLabels([edge('x:0', 50, 10, 0, 10, 40, 30, 80)]);
    assert.deepEqual([l.x, l.y], [14, 20]);
  });
});
