// Small line charts on a canvas: a mean line with a ±1 std band against sigma (log axis,
// decreasing to the right, as sampling runs).
import type { Band } from './boomerang.js';

export interface Panel {
  title: string;
  sigmas: number[];
  band: Band;
  color: string;
}

const PAD = { left: 46, right: 10, top: 22, bottom: 30 };

/** Draws the panels side by side, each with its own y range from 0. */
export function drawPanels(canvas: HTMLCanvasElement, panels: Panel[]): void {
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#12151f';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const w = canvas.width / panels.length;
  panels.forEach((p, k) => drawPanel(ctx, p, k * w, w, canvas.height));
}

function drawPanel(ctx: CanvasRenderingContext2D, p: Panel, x0: number, width: number, height: number): void {
  const logs = p.sigmas.map((s) => Math.log10(Math.max(s, 1e-4)));
  const [hiLog, loLog] = [Math.max(...logs), Math.min(...logs)];
  const top = Math.max(...p.band.mean.map((m, i) => m + p.band.std[i]), 1e-9);
  const px = (l: number) => x0 + PAD.left + ((hiLog - l) / (hiLog - loLog || 1)) * (width - PAD.left - PAD.right);
  const py = (v: number) => height - PAD.bottom - (v / top) * (height - PAD.top - PAD.bottom);
  ctx.save();
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#ccd';
  ctx.fillText(p.title, x0 + PAD.left, 14);
  // Axes with a few ticks: sigma decades below, 0 and the top value at the left.
  ctx.strokeStyle = '#556';
  ctx.beginPath();
  ctx.moveTo(px(hiLog), py(0));
  ctx.lineTo(px(loLog), py(0));
  ctx.moveTo(px(hiLog), py(0));
  ctx.lineTo(px(hiLog), py(top));
  ctx.stroke();
  ctx.textAlign = 'center';
  for (let d = Math.ceil(loLog); d <= Math.floor(hiLog); d++) ctx.fillText(`${10 ** d}`, px(d), height - PAD.bottom + 13);
  ctx.fillText('sigma', x0 + width / 2, height - 4);
  ctx.textAlign = 'right';
  ctx.fillText('0', px(hiLog) - 4, py(0) + 4);
  ctx.fillText(top.toPrecision(2), px(hiLog) - 4, py(top) + 4);
  // The band, then the mean.
  ctx.globalAlpha = 0.2;
  ctx.fillStyle = p.color;
  ctx.beginPath();
  logs.forEach((l, i) => ctx.lineTo(px(l), py(p.band.mean[i] + p.band.std[i])));
  [...logs].reverse().forEach((l, j) => {
    const i = logs.length - 1 - j;
    ctx.lineTo(px(l), py(Math.max(0, p.band.mean[i] - p.band.std[i])));
  });
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.strokeStyle = p.color;
  ctx.lineWidth = 2;
  ctx.beginPath();
  logs.forEach((l, i) => ctx.lineTo(px(l), py(p.band.mean[i])));
  ctx.stroke();
  ctx.restore();
}
