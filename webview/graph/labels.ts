// Where the edge labels (dtype and shape) go: one per value and source box, beside the first stretch of
// its edge, never on top of another label. Edges that fan out of one box (an If's outputs, a Split's)
// start at nearly the same point, so each label tries a few places along its own edge and is left out
// only when none is free (a reader zooms in and it returns).

/** Label height in layout units (the font is 10 px at a zoom of 1). */
export const LABEL_HEIGHT = 13;

export interface LabelInput {
  /** One label per key (source box and value). */
  key: string;
  /** The edge's polyline: x0, y0, x1, y1, ... */
  points: Float32Array;
  width: number;
}

export interface PlacedLabel { key: string; x: number; y: number; width: number }

/** Candidate anchors (left end, vertical middle) along an edge: the first stretch's middle, then further on. */
function candidates(p: Float32Array, width: number): [number, number][] {
  const at = (t: number, i: number): [number, number] => [p[i] + (p[i + 2] - p[i]) * t + 4, p[i + 1] + (p[i + 3] - p[i + 1]) * t];
  const out: [number, number][] = [at(0.5, 0), at(0.8, 0), at(0.25, 0)];
  if (p.length >= 6) out.push(at(0.5, 2));
  // Left of the edge instead of right of it.
  const [x, y] = at(0.5, 0);
  out.push([x - width - 8, y]);
  return out;
}

export function placeLabels(inputs: LabelInput[]): PlacedLabel[] {
  const placed: PlacedLabel[] = [];
  // Placed labels by row of LABEL_HEIGHT, for the overlap test.
  const rows = new Map<number, PlacedLabel[]>();
  const overlaps = (x: number, y: number, w: number) => {
    const r0 = Math.floor((y - LABEL_HEIGHT) / LABEL_HEIGHT), r1 = Math.floor((y + LABEL_HEIGHT) / LABEL_HEIGHT);
    for (let r = r0; r <= r1; r++) {
      for (const l of rows.get(r) ?? []) {
        if (x < l.x + l.width + 4 && l.x < x + w + 4 && Math.abs(y - l.y) < LABEL_HEIGHT) return true;
      }
    }
    return false;
  };
  const seen = new Set<string>();
  for (const input of inputs) {
    if (seen.has(input.key) || input.points.length < 4) continue;
    seen.add(input.key);
    const spot = candidates(input.points, input.width).find(([x, y]) => !overlaps(x, y, input.width));
    if (!spot) continue;
    const label = { key: input.key, x: spot[0], y: spot[1], width: input.width };
    placed.push(label);
    const r = Math.floor(label.y / LABEL_HEIGHT);
    const list = rows.get(r);
    if (list) list.push(label); else rows.set(r, [label]);
  }
  return placed;
}
