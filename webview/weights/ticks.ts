// Axis ticks at round numbers (1, 2 or 5 times a power of ten) for the weights view's counts.

/** Ticks from 0 up to at most `max`, about `count` steps of a round size (the one nearest max / count). */
export function roundTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const f = raw / magnitude;
  // Counts are whole numbers: no step below 1.
  const step = Math.max(1, (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * magnitude);
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

/** Powers of ten from 1 up to `max` (0 first), for logarithmic counts; every other one when there are many. */
export function logTicks(max: number): number[] {
  if (!(max >= 1)) return [0];
  const top = Math.floor(Math.log10(max));
  const every = top > 6 ? 2 : 1;
  const ticks = [0];
  for (let k = 0; k <= top; k += every) ticks.push(10 ** k);
  return ticks;
}
