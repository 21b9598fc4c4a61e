// Image views: a grid of samples (28x28 digits, or any C x H x W with 1 or 3 channels, scaled
// to fit), and a strip of one sample's x_t and D(x_t) over the steps.
import type { SampledRows, SampleResult } from './protocol.js';

/** How samples are drawn: [C, H, W] and the value range that maps to black..white. */
export interface ImageLayout {
  shape: number[];
  range: [number, number];
}

export const DIGITS: ImageLayout = { shape: [1, 28, 28], range: [-1, 1] };

/** Pixels of a grid cell's longer side (small images are scaled up by whole factors). */
const CELL = 84;

/** Draws the samples as a grid of images, scaled up. */
export function drawDigits(canvas: HTMLCanvasElement, samples: Float32Array, batch: number, layout: ImageLayout = DIGITS): void {
  const [, h, w] = layout.shape;
  const scale = Math.max(1, Math.floor(CELL / Math.max(h, w)));
  const cols = Math.ceil(Math.sqrt(batch));
  const rows = Math.ceil(batch / cols);
  const [cw, ch] = [w * scale + 4, h * scale + 4];
  canvas.width = cols * cw + 4;
  canvas.height = rows * ch + 4;
  canvas.style.aspectRatio = `${canvas.width} / ${canvas.height}`;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const per = layout.shape.reduce((a, b) => a * b, 1);
  for (let n = 0; n < batch; n++) {
    drawTile(ctx, samples.subarray(n * per, (n + 1) * per), 4 + (n % cols) * cw, 4 + Math.floor(n / cols) * ch, w * scale, h * scale, layout);
  }
}

/** A grid that fills in as rows of the batch arrive (cells not yet sampled stay black);
 * returns the callback that takes the rows. */
export function fillingGrid(canvas: HTMLCanvasElement, batch: number, layout: ImageLayout = DIGITS): (rows: SampledRows) => void {
  let all: Float32Array | undefined;
  return ({ start, end, samples }) => {
    const dim = samples.length / (end - start);
    all ??= new Float32Array(batch * dim).fill(layout.range[0]);
    all.set(samples, start * dim);
    drawDigits(canvas, all, batch, layout);
  };
}

/** One image (planes of C x H x W, values in the layout's range, clipped) at (x, y). */
function drawTile(ctx: CanvasRenderingContext2D, values: Float32Array, x: number, y: number, width: number, height: number, { shape: [c, h, w], range: [lo, hi] }: ImageLayout): void {
  const tile = new OffscreenCanvas(w, h);
  const tctx = tile.getContext('2d')!;
  const image = tctx.createImageData(w, h);
  const byte = (v: number) => Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255)));
  const plane = h * w;
  for (let i = 0; i < plane; i++) {
    const r = byte(values[i]);
    const [g, b] = c === 3 ? [byte(values[plane + i]), byte(values[2 * plane + i])] : [r, r];
    image.data.set([r, g, b, 255], 4 * i);
  }
  tctx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, x, y, width, height);
}

/** The first sample's x_t at every step (top row) and D(x_t) at every evaluation (bottom). */
export function drawStrip(canvas: HTMLCanvasElement, r: SampleResult, layout: ImageLayout = DIGITS): void {
  const per = r.batch * r.dim;
  const [, h, w] = layout.shape;
  const columns = Math.max(r.stepSigmas.length, r.evalSigmas.length);
  const size = Math.min(56, Math.floor((canvas.clientWidth || 640) / columns) - 2);
  const height = Math.max(1, Math.round((size * h) / w));
  canvas.width = columns * (size + 2);
  canvas.height = 2 * (height + 2);
  canvas.style.aspectRatio = `${canvas.width} / ${canvas.height}`;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let k = 0; k < r.stepSigmas.length; k++) drawTile(ctx, r.steps.subarray(k * per, k * per + r.dim), k * (size + 2), 0, size, height, layout);
  for (let e = 0; e < r.evalSigmas.length; e++) drawTile(ctx, r.evals.subarray(e * per, e * per + r.dim), e * (size + 2), height + 2, size, height, layout);
}
