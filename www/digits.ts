// The MNIST section: a trained U-Net (int8 weights) sampled with any solver, shown as a grid.
import { compileGitsPlan, compilePlan, standardNormal, type Model, type Sampler } from './pkg/gits_sampler.js';
import type { SampleResult } from './sampler.js';

export const MNIST_MODEL = 'models/mnist-unet.int8.gsw';
/** The GITS schedule searched natively for the shipped model (`bash bench/mnist-eval.sh`). */
export const MNIST_GITS = 'schedules/mnist-unet.gits.json';
const SCALE = 3;

export interface DigitsRequest {
  solver: string;
  schedule: string;
  nfe: number;
  seed: number;
  batch: number;
  /** A class label, 'cycle' (0, 1, ..., 9, 0, ...) or 'none' (unconditional). */
  label: string;
  guidance: number;
}

/** Fetches and loads the weights file onto the sampler's device. */
export async function loadMnist(sampler: Sampler, url = MNIST_MODEL): Promise<Model> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return sampler.loadModel(new Uint8Array(await response.arrayBuffer()));
}

/** One class per sample from the picker's value. */
export function labels(label: string, batch: number, classes: number): Uint32Array {
  const out = new Uint32Array(batch);
  for (let i = 0; i < batch; i++) {
    out[i] = label === 'cycle' ? i % classes : label === 'none' ? classes : Number(label);
  }
  if (out.some((l) => !Number.isInteger(l) || l > classes)) throw new Error(`unknown class "${label}"`);
  return out;
}

/** The shipped GITS file, checked to belong to this model. */
async function gitsFor(model: Model): Promise<string> {
  const response = await fetch(MNIST_GITS);
  if (!response.ok) throw new Error(`cannot load ${MNIST_GITS}: HTTP ${response.status}`);
  const text = await response.text();
  const sha = (JSON.parse(text) as { model: { sha256: string } }).model.sha256;
  if (sha !== model.sha256) throw new Error(`${MNIST_GITS} was searched for another model (sha256 ${sha.slice(0, 12)}…)`);
  return text;
}

/** Schedule 'gits' is the shipped GITS file, 'gits-here' the one computed in the page. */
export async function sampleDigits(sampler: Sampler, model: Model, req: DigitsRequest, computedGits?: string): Promise<SampleResult> {
  const m = JSON.parse(model.manifest) as { sigma_min: number; sigma_max: number };
  if (req.schedule === 'gits-here' && computedGits === undefined) throw new Error('compute a GITS schedule first');
  const plan = req.schedule === 'gits' || req.schedule === 'gits-here'
    ? compileGitsPlan(req.solver, req.schedule === 'gits' ? await gitsFor(model) : computedGits!, req.nfe, undefined, false)
    : compilePlan(req.solver, req.schedule, req.nfe, m.sigma_min, m.sigma_max, false, false);
  const noise = standardNormal(BigInt(req.seed), req.batch, model.dim);
  const result = await sampler.sampleModel(plan, model, noise, labels(req.label, req.batch, model.classes), req.guidance, BigInt(req.seed));
  return result as SampleResult;
}

/** Draws the samples (values in [-1, 1]) as a grid of 28x28 images, scaled up. */
export function drawDigits(canvas: HTMLCanvasElement, samples: Float32Array, batch: number, side = 28): void {
  const cols = Math.ceil(Math.sqrt(batch));
  const rows = Math.ceil(batch / cols);
  const cell = side * SCALE + 4;
  canvas.width = cols * cell + 4;
  canvas.height = rows * cell + 4;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = false;
  const tile = document.createElement('canvas');
  tile.width = tile.height = side;
  const tctx = tile.getContext('2d')!;
  const image = tctx.createImageData(side, side);
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < side * side; i++) {
      const v = Math.max(0, Math.min(255, Math.round((samples[n * side * side + i] + 1) * 127.5)));
      image.data.set([v, v, v, 255], 4 * i);
    }
    tctx.putImageData(image, 0, 0);
    ctx.drawImage(tile, 4 + (n % cols) * cell, 4 + Math.floor(n / cols) * cell, side * SCALE, side * SCALE);
  }
}
