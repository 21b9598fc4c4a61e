// The GITS cost matrix as a heat map: cell (i, j) is the cost of the Euler jump from grid point i
// (row) to grid point j (column), on a log colour scale; the DP's path for each step budget is
// drawn over it (the one sampled with, brighter), as the cells (i_0, i_1), (i_1, i_2), ...
import type { CostMap } from './protocol.js';

const PAD = { left: 44, right: 12, top: 12, bottom: 34 };
const RAMP: [number, number, number][] = [[30, 27, 75], [13, 148, 136], [250, 204, 21]];

/** A colour on the ramp, t in [0, 1]. */
function ramp(t: number): string {
  const x = Math.min(Math.max(t, 0), 1) * (RAMP.length - 1);
  const k = Math.min(Math.floor(x), RAMP.length - 2);
  const f = x - k;
  const [a, b] = [RAMP[k], RAMP[k + 1]];
  return `rgb(${a.map((v, i) => Math.round(v + f * (b[i] - v))).join(',')})`;
}

/** Draws `map`; `steps`: the step count whose path is highlighted. */
export function drawCostMap(canvas: HTMLCanvasElement, map: CostMap, steps: number | undefined): void {
  const c = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const g = map.grid.length;
  const size = Math.min(width - PAD.left - PAD.right, height - PAD.top - PAD.bottom);
  const cell = size / g;
  c.fillStyle = '#12151f';
  c.fillRect(0, 0, width, height);
  // The colour range: the positive costs' 5th percentile to their largest (a few jumps that land
  // almost exactly would stretch it; the dev metric's negative costs are drawn darkest).
  const logs = map.rows.flat().filter((v) => v > 0).map(Math.log10).sort((a, b) => a - b);
  const [lo, hi] = [logs[Math.floor(0.05 * logs.length)] ?? 0, logs.at(-1) ?? 1];
  const span = hi - lo || 1;
  map.rows.forEach((row, i) =>
    row.forEach((v, k) => {
      c.fillStyle = ramp(v > 0 ? (Math.log10(v) - lo) / span : 0);
      c.fillRect(PAD.left + (i + 1 + k) * cell, PAD.top + i * cell, Math.ceil(cell), Math.ceil(cell));
    }),
  );
  const centre = (i: number, j: number): [number, number] => [PAD.left + (j + 0.5) * cell, PAD.top + (i + 0.5) * cell];
  const stroke = (path: number[], color: string, lineWidth: number) => {
    c.strokeStyle = color;
    c.lineWidth = lineWidth;
    c.beginPath();
    for (let m = 0; m + 1 < path.length; m++) {
      const [x, y] = centre(path[m], path[m + 1]);
      if (m) c.lineTo(x, y);
      else c.moveTo(x, y);
    }
    c.stroke();
    for (let m = 0; m + 1 < path.length; m++) {
      const [x, y] = centre(path[m], path[m + 1]);
      c.fillStyle = color;
      c.fillRect(x - lineWidth, y - lineWidth, 2 * lineWidth, 2 * lineWidth);
    }
  };
  map.paths.forEach((path, k) => { if (k + 1 !== steps) stroke(path, 'rgba(232, 232, 239, 0.35)', 1); });
  if (steps !== undefined && map.paths[steps - 1]) stroke(map.paths[steps - 1], '#fb923c', 2.5);
  c.font = '11px system-ui, sans-serif';
  c.fillStyle = '#aab';
  c.textAlign = 'left';
  c.fillText(`to grid point j → (sigma ${map.grid[0]} .. ${map.grid[g - 1]})`, PAD.left, PAD.top + size + 14);
  c.fillText(`cost of the jump i → j: 1e${lo.toFixed(1)} or less (dark) .. 1e${hi.toFixed(1)} (bright)`, PAD.left, PAD.top + size + 28);
  c.save();
  c.translate(14, PAD.top + size / 2);
  c.rotate(-Math.PI / 2);
  c.textAlign = 'center';
  c.fillText('from grid point i ↓', 0, 0);
  c.restore();
}
