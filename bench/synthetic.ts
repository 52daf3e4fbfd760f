// Seeded generators of inputs like those the shared models were trained on, for calibration and accuracy
// checks where no data set can be downloaded: text lines and pages drawn from strokes (a small stroke font of
// digits and Latin letters, with baselines, ascenders and descenders, plus CJK-like blocks), handwritten-like
// digits (MNIST layout), and speech-like audio (voiced syllables with formants, pitch glides and pauses).
// Every generator is deterministic in its seed.
import { seededRandom } from '../src/runtime/random';

type Rand = () => number;
type Point = [number, number];

// ---- a stroke font -------------------------------------------------------------------------------------
// Glyphs on a grid 4 units wide: cap height and ascenders from y = 0, x-height from y = 2, baseline y = 6,
// descenders to y = 8 (y grows downwards). A glyph is a list of polylines.

const arc = (cx: number, cy: number, rx: number, ry: number, a0: number, a1: number, steps = 10): Point[] => {
  const out: Point[] = [];
  for (let i = 0; i <= steps; i++) {
    const a = ((a0 + ((a1 - a0) * i) / steps) * Math.PI) / 180;
    out.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]);
  }
  return out;
};
const L = (...xy: number[]): Point[] => { const out: Point[] = []; for (let i = 0; i < xy.length; i += 2) out.push([xy[i], xy[i + 1]]); return out; };

const GLYPHS: Record<string, Point[][]> = {
  '0': [arc(2, 3, 1.6, 3, 0, 360, 16)],
  '1': [L(1, 1, 2.2, 0, 2.2, 6), L(1, 6, 3.4, 6)],
  '2': [[...arc(2, 1.6, 1.6, 1.6, 200, 360 + 20), [0.4, 6], [3.6, 6]]],
  '3': [arc(2, 1.5, 1.5, 1.5, 200, 450), arc(2, 4.5, 1.6, 1.5, 270, 520)],
  '4': [L(3, 6, 3, 0, 0.3, 4.2, 3.8, 4.2)],
  '5': [[[3.5, 0], [0.6, 0], [0.4, 2.6], ...arc(1.9, 4.1, 1.6, 1.8, 240, 500)]],
  '6': [[...arc(2, 3, 1.6, 3, 300, 180, 8), ...arc(2, 4.4, 1.6, 1.6, 180, 540, 12)]],
  '7': [L(0.3, 0, 3.7, 0, 1.4, 6)],
  '8': [arc(2, 1.5, 1.4, 1.5, 0, 360, 14), arc(2, 4.5, 1.7, 1.5, 0, 360, 14)],
  '9': [[...arc(2, 1.6, 1.6, 1.6, 0, 360, 12), [3.6, 1.6], [3.2, 6]]],
  a: [arc(1.8, 4.3, 1.5, 1.7, 0, 360, 12), L(3.3, 2.3, 3.4, 6)],
  b: [L(0.5, 0, 0.5, 6), arc(1.9, 4.1, 1.5, 1.9, 0, 360, 12)],
  c: [arc(2.1, 4, 1.6, 2, 40, 320, 10)],
  d: [L(3.5, 0, 3.5, 6), arc(2.1, 4.1, 1.5, 1.9, 0, 360, 12)],
  e: [[[0.5, 4], [3.6, 4], ...arc(2.05, 4, 1.55, 2, 0, 320, 10)]],
  f: [[...arc(2.6, 1.2, 1, 1.2, 340, 180, 6), [1.6, 6]], L(0.4, 2.2, 3, 2.2)],
  g: [arc(1.9, 3.8, 1.5, 1.7, 0, 360, 12), [[3.4, 2.1], ...arc(1.9, 6.3, 1.5, 1.6, 0, 160, 6)]],
  h: [L(0.5, 0, 0.5, 6), [[0.5, 3.5], ...arc(1.9, 3.6, 1.4, 1.5, 180, 360, 6), [3.3, 6]]],
  i: [L(2, 2.2, 2, 6), L(2, 0.6, 2, 0.9)],
  j: [[[2.4, 2.2], ...arc(1.2, 6.6, 1.2, 1.4, 0, 150, 6)], L(2.4, 0.6, 2.4, 0.9)],
  k: [L(0.5, 0, 0.5, 6), L(3.4, 2.2, 0.6, 4.4), L(1.6, 3.6, 3.6, 6)],
  l: [L(1.6, 0, 1.6, 5.2, 2.4, 6)],
  m: [L(0.3, 2.2, 0.3, 6), [[0.3, 3.2], ...arc(1.1, 3.2, 0.8, 1, 180, 360, 5), [1.9, 6]], [[1.9, 3.2], ...arc(2.8, 3.2, 0.9, 1, 180, 360, 5), [3.7, 6]]],
  n: [L(0.5, 2.2, 0.5, 6), [[0.5, 3.5], ...arc(1.9, 3.6, 1.4, 1.5, 180, 360, 6), [3.3, 6]]],
  o: [arc(2, 4.1, 1.6, 1.9, 0, 360, 14)],
  p: [L(0.5, 2.2, 0.5, 8), arc(1.9, 4, 1.5, 1.9, 0, 360, 12)],
  q: [L(3.5, 2.2, 3.5, 8), arc(2.1, 4, 1.5, 1.9, 0, 360, 12)],
  r: [L(0.8, 2.2, 0.8, 6), [[0.8, 3.6], ...arc(2.2, 3.6, 1.4, 1.4, 180, 300, 5)]],
  s: [[...arc(2, 3.1, 1.4, 0.9, 330, 90, 8), ...arc(2, 4.9, 1.4, 1.05, 270, 150 - 360, 8)]],
  t: [[[1.6, 0.6], [1.6, 5.2], ...arc(2.4, 5.2, 0.8, 0.8, 180, 60, 4)], L(0.4, 2.2, 3.2, 2.2)],
  u: [[[0.5, 2.2], [0.5, 4.6], ...arc(1.9, 4.5, 1.4, 1.5, 180, 0, 6)], L(3.3, 2.2, 3.3, 6)],
  v: [L(0.3, 2.2, 2, 6, 3.7, 2.2)],
  w: [L(0, 2.2, 1, 6, 2, 3, 3, 6, 4, 2.2)],
  x: [L(0.4, 2.2, 3.6, 6), L(3.6, 2.2, 0.4, 6)],
  y: [L(0.4, 2.2, 2, 6), L(3.6, 2.2, 1.2, 8)],
  z: [L(0.5, 2.2, 3.5, 2.2, 0.5, 6, 3.6, 6)],
  A: [L(0.2, 6, 2, 0, 3.8, 6), L(1, 3.8, 3, 3.8)],
  E: [L(3.5, 0, 0.5, 0, 0.5, 6, 3.5, 6), L(0.5, 3, 3, 3)],
  H: [L(0.5, 0, 0.5, 6), L(3.5, 0, 3.5, 6), L(0.5, 3, 3.5, 3)],
  L: [L(0.6, 0, 0.6, 6, 3.6, 6)],
  M: [L(0.2, 6, 0.4, 0, 2, 4, 3.6, 0, 3.8, 6)],
  N: [L(0.5, 6, 0.5, 0, 3.5, 6, 3.5, 0)],
  T: [L(0.2, 0, 3.8, 0), L(2, 0, 2, 6)],
  P: [L(0.5, 6, 0.5, 0, 2.2, 0), arc(2.2, 1.6, 1.4, 1.6, 270, 450, 8), L(2.2, 3.2, 0.5, 3.2)],
  R: [L(0.5, 6, 0.5, 0, 2.2, 0), arc(2.2, 1.6, 1.4, 1.6, 270, 450, 8), L(2.2, 3.2, 0.5, 3.2), L(2, 3.2, 3.6, 6)],
  S: [[...arc(2, 1.5, 1.6, 1.5, 340, 90, 8), ...arc(2, 4.5, 1.6, 1.5, 270, 140 - 360, 8)]],
  '.': [L(1.8, 5.7, 2.2, 6)],
  ',': [L(2.2, 5.6, 1.6, 7)],
  '-': [L(0.8, 3.8, 3.2, 3.8)],
};
const LATIN = Object.keys(GLYPHS).filter((c) => c.length === 1 && !'.,-'.includes(c));
const LOWER = LATIN.filter((c) => c >= 'a' && c <= 'z');

/** A CJK-like character: horizontal, vertical and slanted strokes in a square cell (y from 0 to 6). */
function cjkGlyph(rand: Rand): Point[][] {
  const strokes: Point[][] = [];
  const n = 3 + Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) {
    const kind = rand();
    const x0 = rand() * 3, y0 = rand() * 5;
    if (kind < 0.45) strokes.push(L(x0 * 0.5, y0, Math.min(4, x0 * 0.5 + 1.5 + rand() * 2.5), y0 + (rand() - 0.5) * 0.4));
    else if (kind < 0.85) strokes.push(L(x0 + 0.5, y0 * 0.4, x0 + 0.5 + (rand() - 0.5) * 0.3, Math.min(6, y0 * 0.4 + 2 + rand() * 3.5)));
    else strokes.push(L(x0, y0, x0 + (rand() < 0.5 ? -1 : 1) * (1 + rand() * 1.5), Math.min(6, y0 + 1 + rand() * 2)));
  }
  return strokes;
}

// ---- rasterizing --------------------------------------------------------------------------------------

/** A grey-level canvas (0 = black, 1 = white) with anti-aliased thick strokes. */
export class Canvas {
  readonly data: Float32Array;
  constructor(readonly width: number, readonly height: number, background = 1) {
    this.data = new Float32Array(width * height).fill(background);
  }

  /** Draws a polyline of `thickness` pixels with `ink` (grey level), blending by coverage. */
  stroke(points: Point[], thickness: number, ink: number): void {
    for (let i = 0; i + 1 < points.length; i++) this.segment(points[i], points[i + 1], thickness, ink);
  }

  private segment([x0, y0]: Point, [x1, y1]: Point, thickness: number, ink: number): void {
    const r = thickness / 2;
    const minX = Math.max(0, Math.floor(Math.min(x0, x1) - r - 1)), maxX = Math.min(this.width - 1, Math.ceil(Math.max(x0, x1) + r + 1));
    const minY = Math.max(0, Math.floor(Math.min(y0, y1) - r - 1)), maxY = Math.min(this.height - 1, Math.ceil(Math.max(y0, y1) + r + 1));
    const dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5, py = y + 0.5;
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2));
        const ex = px - (x0 + t * dx), ey = py - (y0 + t * dy);
        const d = Math.sqrt(ex * ex + ey * ey);
        const cover = Math.max(0, Math.min(1, r + 0.5 - d));
        if (cover > 0) {
          const at = y * this.width + x;
          this.data[at] = this.data[at] * (1 - cover) + ink * cover;
        }
      }
    }
  }
}

export interface TextLineOptions {
  /** Text height (baseline to cap height) in pixels; default about 60% of the image height. */
  size?: number;
  /** Rotate the finished image by 180 degrees (upside-down text, for the orientation classifier). */
  rotate180?: boolean;
  /** Share of CJK-like characters (default 0.3). */
  cjk?: number;
  /** Share of the width the text fills, at least (default 0.6; a crop of a detected box: about 0.9). */
  fill?: number;
}

/** Draws a line of text on `canvas` from (x, baseline) with cap height `size`; returns the end x. */
function drawText(canvas: Canvas, rand: Rand, x: number, baseline: number, size: number, maxX: number, cjkShare: number, ink: number): number {
  const unit = size / 6;
  const thickness = Math.max(1, unit * (0.45 + rand() * 0.35));
  const slant = (rand() - 0.5) * 0.25;
  let pos = x;
  let word = 0;
  while (pos < maxX - 4 * unit) {
    if (word > 2 + rand() * 6) { pos += unit * (1.5 + rand() * 2); word = 0; continue; }
    const cjk = rand() < cjkShare;
    const strokes = cjk ? cjkGlyph(rand) : GLYPHS[rand() < 0.7 ? LOWER[Math.floor(rand() * LOWER.length)] : LATIN[Math.floor(rand() * LATIN.length)]];
    const width = cjk ? 5.5 : 4.8;
    if (pos + width * unit > maxX) break;
    for (const s of strokes) {
      canvas.stroke(s.map(([gx, gy]) => [pos + (gx + slant * (6 - gy)) * unit, baseline + (gy - 6) * unit] as Point), thickness, ink);
    }
    pos += width * unit * (0.9 + rand() * 0.2);
    word++;
  }
  return pos;
}

/** Paper-like background: a grey level with a gentle gradient and a little noise. */
function paper(canvas: Canvas, rand: Rand, level: number): void {
  const gx = (rand() - 0.5) * 0.1, gy = (rand() - 0.5) * 0.1;
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) {
      canvas.data[y * canvas.width + x] = level + gx * (x / canvas.width) + gy * (y / canvas.height) + (rand() - 0.5) * 0.04;
    }
  }
}

function rotate180(c: Canvas): void {
  c.data.reverse();
}

/** One text line filling a `width` x `height` crop (the OCR recognizer's and the orientation classifier's input). */
export function textLine(width: number, height: number, seed: number, options: TextLineOptions = {}): Canvas {
  const rand = seededRandom(seed);
  const c = new Canvas(width, height);
  paper(c, rand, 0.85 + rand() * 0.13);
  const size = options.size ?? height * (0.5 + rand() * 0.2);
  const baseline = height / 2 + size / 2 - size * 0.1 + (rand() - 0.5) * height * 0.08;
  const ink = rand() * 0.25;
  const fill = options.fill ?? 0.6;
  drawText(c, rand, 2 + rand() * size * (1 - fill), baseline, size, width * (fill + rand() * (1 - fill)), options.cjk ?? 0.3, ink);
  if (options.rotate180) rotate180(c);
  return c;
}

/** A page with a few text lines of different sizes at random places (the OCR detector's input). */
export function textPage(width: number, height: number, seed: number): Canvas {
  const rand = seededRandom(seed);
  const c = new Canvas(width, height);
  paper(c, rand, 0.8 + rand() * 0.18);
  let y = 4 + rand() * 12;
  while (y < height - 10) {
    const size = 8 + rand() * Math.min(28, height / 6);
    const baseline = y + size;
    if (baseline > height - 2) break;
    if (rand() < 0.8) drawText(c, rand, 2 + rand() * width * 0.3, baseline, size, width * (0.5 + rand() * 0.5), 0.35, rand() * 0.3);
    y = baseline + size * (0.5 + rand() * 1.2);
  }
  return c;
}

/** A grey canvas as an NCHW float tensor of 3 equal channels, normalized per channel: (v - mean) / std. */
export function toRgbTensor(c: Canvas, mean: readonly number[] = [0.5, 0.5, 0.5], std: readonly number[] = [0.5, 0.5, 0.5]): Float32Array {
  const plane = c.width * c.height;
  const out = new Float32Array(3 * plane);
  for (let ch = 0; ch < 3; ch++) {
    const m = mean[ch], s = std[ch];
    for (let i = 0; i < plane; i++) out[ch * plane + i] = (Math.min(1, Math.max(0, c.data[i])) - m) / s;
  }
  return out;
}

/** ImageNet mean and std (the PP-OCR detector's preprocessing). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

// ---- digits ----------------------------------------------------------------------------------------------

/**
 * A handwritten-like digit in the MNIST layout: white strokes on black, 28 x 28, the digit scaled into a
 * 20 x 20 box and centred by its mass, with random slant, stroke width, wobble and proportions. Values in
 * [0, 1] (multiply by 255 for models that take raw pixels). Returns the digit drawn, too.
 */
export function digitImage(seed: number, digit?: number): { pixels: Float32Array; digit: number } {
  const rand = seededRandom(seed);
  const d = digit ?? Math.floor(rand() * 10);
  const big = new Canvas(56, 56, 0); // drawn at 2x, then reduced (anti-aliasing like MNIST's)
  const slant = (rand() - 0.5) * 0.5;
  const sx = 0.85 + rand() * 0.4, sy = 0.9 + rand() * 0.2;
  const thickness = 3.2 + rand() * 2.6;
  const wobble = () => (rand() - 0.5) * 0.25;
  const glyph = GLYPHS[String(d)];
  const jittered = glyph.map((s) => s.map(([x, y]) => [x + wobble(), y + wobble()] as Point));
  // Fit into a 40 x 40 box (20 x 20 at 1x).
  const pts = jittered.flat().map(([x, y]) => [(x - 2) * sx + slant * (3 - y), (y - 3) * sy] as Point);
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const w = Math.max(...xs) - Math.min(...xs), h = Math.max(...ys) - Math.min(...ys);
  const scale = 34 / Math.max(w, h, 1e-6);
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2, cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  for (const s of jittered) {
    big.stroke(s.map(([x, y]) => {
      const px = (x - 2) * sx + slant * (3 - y), py = (y - 3) * sy;
      return [28 + (px - cx) * scale, 28 + (py - cy) * scale] as Point;
    }), thickness, 1);
  }
  // 2x2 average down to 28 x 28, then centre by mass.
  const small = new Float32Array(28 * 28);
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    const v = (big.data[2 * y * 56 + 2 * x] + big.data[2 * y * 56 + 2 * x + 1] + big.data[(2 * y + 1) * 56 + 2 * x] + big.data[(2 * y + 1) * 56 + 2 * x + 1]) / 4;
    small[y * 28 + x] = v;
    mass += v; mx += v * x; my += v * y;
  }
  const ox = Math.round(13.5 - mx / mass), oy = Math.round(13.5 - my / mass);
  const pixels = new Float32Array(28 * 28);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    const fx = x - ox, fy = y - oy;
    if (fx >= 0 && fx < 28 && fy >= 0 && fy < 28) pixels[y * 28 + x] = small[fy * 28 + fx];
  }
  return { pixels, digit: d };
}

// ---- speech-like audio ---------------------------------------------------------------------------------

export interface SpeechOptions {
  /** Sample rate (default 16000). */
  rate?: number;
  /** Start time in samples (consecutive chunks of one utterance share a seed and advance t0). */
  t0?: number;
  /** Peak amplitude (default 0.3 to 0.6 of full scale). */
  level?: number;
}

/**
 * Speech-like audio: voiced syllables (a glottal pulse train at a gliding pitch of 90-250 Hz shaped by three
 * formant resonances that move from syllable to syllable), unvoiced fricative bursts, short pauses, and a
 * little background noise. Deterministic in `seed`; `t0` continues the same utterance.
 */
export function speechSignal(samples: number, seed: number, options: SpeechOptions = {}): Float32Array {
  const rate = options.rate ?? 16000;
  const t0 = options.t0 ?? 0;
  const global = seededRandom(seed);
  const pitchBase = 90 + global() * 160;
  const level = options.level ?? 0.3 + global() * 0.3;
  const syllableLen = Math.floor(rate * (0.12 + global() * 0.12));
  const out = new Float32Array(samples);
  const noise = seededRandom(seed * 7919 + Math.floor(t0 / 997));
  for (let i = 0; i < samples; i++) {
    const t = t0 + i;
    const syl = Math.floor(t / syllableLen);
    const r = seededRandom(seed * 131071 + syl);
    const kind = r(); // voiced, unvoiced, or a pause
    const pos = (t % syllableLen) / syllableLen;
    const env = Math.sin(Math.PI * pos) ** 0.6;
    let v = 0;
    if (kind < 0.7) {
      const f0 = pitchBase * (1 + 0.15 * Math.sin((2 * Math.PI * t) / rate * 1.3 + seed)) * (1 + (r() - 0.5) * 0.2);
      const formants = [300 + r() * 600, 900 + r() * 1400, 2200 + r() * 900];
      const phase = (2 * Math.PI * f0 * t) / rate;
      // A harmonic series whose amplitudes follow the formant envelope.
      for (let h = 1; h * f0 < Math.min(4000, rate / 2); h++) {
        const f = h * f0;
        let amp = 0;
        for (const F of formants) amp += 1 / (1 + ((f - F) / 120) ** 2);
        v += (amp / h ** 0.3) * Math.sin(h * phase);
      }
      v *= 0.25;
    } else if (kind < 0.85) {
      v = (noise() * 2 - 1) * 0.35 * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / rate * 3500));
    }
    out[i] = level * env * v + 0.005 * (noise() * 2 - 1);
  }
  return out;
}
