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

export interface Series {
  label: string;
  color: string;
  xs: number[];
  ys: number[];
}

/** Lines of y (log axis) against x, with a legend: error against NFE, one line per schedule. */
export function drawLines(canvas: HTMLCanvasElement, series: Series[], xLabel: string, yLabel: string): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.fillStyle = '#12151f';
  ctx.fillRect(0, 0, width, height);
  const xs = series.flatMap((s) => s.xs);
  const ys = series.flatMap((s) => s.ys).filter((y) => y > 0);
  if (!xs.length || !ys.length) return;
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [l0, l1] = [Math.floor(Math.log10(Math.min(...ys))), Math.ceil(Math.log10(Math.max(...ys)))];
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (width - PAD.left - PAD.right - 150);
  const py = (y: number) => height - PAD.bottom - ((Math.log10(Math.max(y, 10 ** l0)) - l0) / (l1 - l0 || 1)) * (height - PAD.top - PAD.bottom);
  ctx.save();
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#ccd';
  ctx.fillText(yLabel, PAD.left, 14);
  ctx.strokeStyle = '#556';
  ctx.beginPath();
  ctx.moveTo(px(x0), py(10 ** l0));
  ctx.lineTo(px(x1), py(10 ** l0));
  ctx.moveTo(px(x0), py(10 ** l0));
  ctx.lineTo(px(x0), py(10 ** l1));
  ctx.stroke();
  ctx.textAlign = 'center';
  // Labels at least 28 px apart, so a dense series keeps readable ticks.
  let lastLabel = -Infinity;
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    if (px(x) - lastLabel < 28) continue;
    ctx.fillText(String(x), px(x), height - PAD.bottom + 13);
    lastLabel = px(x);
  }
  ctx.fillText(xLabel, px((x0 + x1) / 2), height - 4);
  ctx.textAlign = 'right';
  for (let d = l0; d <= l1; d++) ctx.fillText(`1e${d}`, px(x0) - 4, py(10 ** d) + 4);
  ctx.textAlign = 'left';
  series.forEach((s, k) => {
    ctx.strokeStyle = ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.xs.forEach((x, i) => (i ? ctx.lineTo(px(x), py(s.ys[i])) : ctx.moveTo(px(x), py(s.ys[i]))));
    ctx.stroke();
    s.xs.forEach((x, i) => {
      ctx.beginPath();
      ctx.arc(px(x), py(s.ys[i]), 3, 0, 2 * Math.PI);
      ctx.fill();
    });
    ctx.fillText(s.label, width - 142, PAD.top + 14 * k + 8);
  });
  ctx.restore();
}
