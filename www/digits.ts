// Image views: a grid of 28x28 digits, and a strip of one sample's x_t and D(x_t) over the steps.
import type { SampledRows, SampleResult } from './protocol.js';

const SCALE = 3;

/** Draws the samples (values in [-1, 1]) as a grid of 28x28 images, scaled up. */
export function drawDigits(canvas: HTMLCanvasElement, samples: Float32Array, batch: number, side = 28): void {
  const cols = Math.ceil(Math.sqrt(batch));
  const rows = Math.ceil(batch / cols);
  const cell = side * SCALE + 4;
  canvas.width = cols * cell + 4;
  canvas.height = rows * cell + 4;
  canvas.style.aspectRatio = `${canvas.width} / ${canvas.height}`;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let n = 0; n < batch; n++) {
    drawTile(ctx, samples.subarray(n * side * side, (n + 1) * side * side), 4 + (n % cols) * cell, 4 + Math.floor(n / cols) * cell, side * SCALE, side);
  }
}

/** A digit grid that fills in as rows of the batch arrive (cells not yet sampled stay
 * black); returns the callback that takes the rows. */
export function fillingGrid(canvas: HTMLCanvasElement, batch: number): (rows: SampledRows) => void {
  let all: Float32Array | undefined;
  return ({ start, end, samples }) => {
    const dim = samples.length / (end - start);
    all ??= new Float32Array(batch * dim).fill(-1);
    all.set(samples, start * dim);
    drawDigits(canvas, all, batch);
  };
}

/** One image (values in [-1, 1], clipped) at (x, y), `size` pixels wide. */
function drawTile(ctx: CanvasRenderingContext2D, values: Float32Array, x: number, y: number, size: number, side: number): void {
  const tile = new OffscreenCanvas(side, side);
  const tctx = tile.getContext('2d')!;
  const image = tctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const v = Math.max(0, Math.min(255, Math.round((values[i] + 1) * 127.5)));
    image.data.set([v, v, v, 255], 4 * i);
  }
  tctx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, x, y, size, size);
}

/** The first sample's x_t at every step (top row) and D(x_t) at every evaluation (bottom). */
export function drawStrip(canvas: HTMLCanvasElement, r: SampleResult, side = 28): void {
  const per = r.batch * r.dim;
  const columns = Math.max(r.stepSigmas.length, r.evalSigmas.length);
  const size = Math.min(56, Math.floor((canvas.clientWidth || 640) / columns) - 2);
  canvas.width = columns * (size + 2);
  canvas.height = 2 * (size + 2);
  canvas.style.aspectRatio = `${canvas.width} / ${canvas.height}`;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let k = 0; k < r.stepSigmas.length; k++) drawTile(ctx, r.steps.subarray(k * per, k * per + r.dim), k * (size + 2), 0, size, side);
  for (let e = 0; e < r.evalSigmas.length; e++) drawTile(ctx, r.evals.subarray(e * per, e * per + r.dim), e * (size + 2), size + 2, size, side);
}
