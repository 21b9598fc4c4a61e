// Draws the 2-D view: data density, sampling trajectories, denoiser outputs and samples.
import type { SampleResult } from './protocol.js';

export interface View {
  lo: number;
  hi: number;
}

function toPixel(canvas: HTMLCanvasElement, view: View, x: number, y: number): [number, number] {
  const s = canvas.width / (view.hi - view.lo);
  return [(x - view.lo) * s, (view.hi - y) * s];
}

export function drawDensity(canvas: HTMLCanvasElement, grid: Float32Array, n: number): void {
  const ctx = canvas.getContext('2d')!;
  const max = grid.reduce((a, b) => Math.max(a, b), 0) || 1;
  const img = ctx.createImageData(n, n);
  grid.forEach((p, i) => {
    const t = Math.sqrt(p / max); // sqrt: the tails stay visible
    img.data.set([18 + 40 * t, 22 + 70 * t, 38 + 110 * t, 255], i * 4);
  });
  const tmp = new OffscreenCanvas(n, n);
  tmp.getContext('2d')!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}

/** How many evaluations had been made by step `k` (those at sigmas >= the step's sigma). */
export function evalsAt(r: SampleResult, k: number): number {
  let e = 0;
  while (e < r.evalSigmas.length && r.evalSigmas[e] >= r.stepSigmas[k]) e++;
  return e;
}

/** Paths x_1 .. x_upTo (x_0 at sigma_max lies far outside the view), the D(x) dots of the
 * evaluations so far, and the batch at step `upTo` (the samples at the last step). */
export function drawTrajectories(canvas: HTMLCanvasElement, view: View, r: SampleResult, showDenoised: boolean, upTo = r.stepSigmas.length - 1): void {
  const ctx = canvas.getContext('2d')!;
  const { batch, dim } = r;
  const nSteps = upTo + 1;
  const at = (buf: Float32Array, t: number, b: number) => toPixel(canvas, view, buf[(t * batch + b) * dim], buf[(t * batch + b) * dim + 1]);
  ctx.lineWidth = 1;
  ctx.strokeStyle = 'rgba(255, 190, 90, 0.45)';
  for (let b = 0; b < batch; b++) {
    ctx.beginPath();
    for (let t = 1; t < nSteps; t++) {
      const [px, py] = at(r.steps, t, b);
      if (t === 1) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
    ctx.stroke();
  }
  if (showDenoised) {
    ctx.fillStyle = 'rgba(120, 220, 255, 0.55)';
    for (let e = 0, n = evalsAt(r, upTo); e < n; e++) {
      for (let b = 0; b < batch; b++) {
        const [px, py] = at(r.evals, e, b);
        ctx.fillRect(px - 1, py - 1, 2, 2);
      }
    }
  }
  ctx.fillStyle = '#fff3c4';
  for (let b = 0; b < batch; b++) {
    const [px, py] = at(r.steps, upTo, b);
    ctx.beginPath();
    ctx.arc(px, py, 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
}
