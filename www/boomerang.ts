// The paper's "boomerang" view of a sampling trajectory (Chen et al., Sec. 3): at each step, how
// far x_t lies from the straight line x_T -> x_0 (it rises and falls back to 0) and how far it
// still is from x_0, as mean and standard deviation over the batch, against sigma.
import type { SampleResult } from './protocol.js';

export interface Band {
  mean: number[];
  std: number[];
}

export interface Boomerang {
  sigmas: number[];
  /** Perpendicular distance of x_t from the line through x_T and x_0. */
  deviation: Band;
  /** ||x_t - x_0||. */
  toEnd: Band;
}

export function boomerang(r: SampleResult): Boomerang {
  const { dim, batch } = r;
  const steps = r.stepSigmas.length;
  const at = (s: number, n: number, i: number) => r.steps[(s * batch + n) * dim + i];
  const deviation: number[][] = [];
  const toEnd: number[][] = [];
  for (let s = 0; s < steps; s++) {
    const dev: number[] = [];
    const end: number[] = [];
    for (let n = 0; n < batch; n++) {
      // u = x_0 - x_T, w = x_t - x_T: deviation^2 = |w|^2 - (w.u)^2 / |u|^2.
      let uu = 0, ww = 0, wu = 0, ee = 0;
      for (let i = 0; i < dim; i++) {
        const first = at(0, n, i), last = at(steps - 1, n, i), x = at(s, n, i);
        const u = last - first, w = x - first, e = x - last;
        uu += u * u; ww += w * w; wu += w * u; ee += e * e;
      }
      dev.push(Math.sqrt(Math.max(0, ww - (uu > 0 ? (wu * wu) / uu : 0))));
      end.push(Math.sqrt(ee));
    }
    deviation.push(dev);
    toEnd.push(end);
  }
  return { sigmas: Array.from(r.stepSigmas), deviation: band(deviation), toEnd: band(toEnd) };
}

function band(rows: number[][]): Band {
  const mean = rows.map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  const std = rows.map((v, k) => Math.sqrt(v.reduce((a, b) => a + (b - mean[k]) ** 2, 0) / v.length));
  return { mean, std };
}
