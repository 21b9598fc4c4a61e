// The MNIST section: a trained U-Net (int8 weights) sampled with any solver, shown as a grid.

export const MNIST_MODEL = 'models/mnist-unet.int8.gsw';
/** The GITS schedule searched natively for the shipped model (`bash bench/mnist-eval.sh`). */
export const MNIST_GITS = 'schedules/mnist-unet.gits.json';
const SCALE = 3;

/** The shipped GITS file's text. */
export async function shippedGits(): Promise<string> {
  const response = await fetch(MNIST_GITS);
  if (!response.ok) throw new Error(`cannot load ${MNIST_GITS}: HTTP ${response.status}`);
  return response.text();
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
