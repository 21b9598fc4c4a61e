// The rotatable 3-D view of one trajectory in its own frame (paper Sec. 3): axis 1 along
// x_T - x_0, axes 2-3 the top principal components of the rest. Drag or use the arrow keys to
// turn it; the path and the denoising trajectory grow with the step slider.
import type { Projection } from './protocol.js';

const AXES = ['x_T - x_0', 'PC 1', 'PC 2'];

/** How the three axes are scaled: each to its own range (the bend, small next to |x_T - x_0|,
 * fills the box), or all by one factor (true proportions: the bend looks as small as it is). */
export type AxesScaling = 'fit' | 'equal';
export const AXES_SCALINGS: AxesScaling[] = ['fit', 'equal'];
const STEP = Math.PI / 18; // 10 degrees per key press

export class Orbit {
  private yaw = -0.6;
  private pitch = 0.35;
  private shown?: { p: Projection; steps: number; evals: number };
  private scaling: AxesScaling = 'fit';
  /** The half-span each axis was divided by in the last drawing (for tests). */
  halfSpans: number[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) {
    let drag: { x: number; y: number } | undefined;
    canvas.addEventListener('pointerdown', (ev) => {
      drag = { x: ev.clientX, y: ev.clientY };
      canvas.setPointerCapture(ev.pointerId);
    });
    canvas.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      this.turn((ev.clientX - drag.x) * 0.01, (ev.clientY - drag.y) * 0.01);
      drag = { x: ev.clientX, y: ev.clientY };
    });
    canvas.addEventListener('pointerup', () => { drag = undefined; });
    canvas.addEventListener('keydown', (ev) => {
      const turns: Record<string, [number, number]> = { ArrowLeft: [-STEP, 0], ArrowRight: [STEP, 0], ArrowUp: [0, -STEP], ArrowDown: [0, STEP] };
      const t = turns[ev.key];
      if (!t) return;
      ev.preventDefault();
      this.turn(...t);
    });
  }

  /** The view angles in radians (for tests and links). */
  get angles(): [number, number] {
    return [this.yaw, this.pitch];
  }

  get axes(): AxesScaling {
    return this.scaling;
  }

  set axes(scaling: AxesScaling) {
    this.scaling = scaling;
    this.draw();
  }

  turn(dYaw: number, dPitch: number): void {
    this.yaw += dYaw;
    this.pitch = Math.max(-1.5, Math.min(1.5, this.pitch + dPitch));
    this.draw();
  }

  /** Shows `p` with its first `steps` path points and `evals` denoiser outputs. */
  show(p: Projection, steps: number, evals: number): void {
    this.shown = { p, steps, evals };
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d')!;
    const { width: w, height: h } = this.canvas;
    ctx.fillStyle = '#12151f';
    ctx.fillRect(0, 0, w, h);
    if (!this.shown) return;
    const { p, steps, evals } = this.shown;
    // 'fit': each axis scaled to its own range; 'equal': all by the largest one. Then the box
    // turns about its centre and is fitted to the canvas.
    const all = [...p.path, ...p.denoised];
    const range = [0, 1, 2].map((k) => [Math.min(0, ...all.map((q) => q[k])), Math.max(0, ...all.map((q) => q[k]))]);
    const own = range.map(([lo, hi]) => (hi - lo) / 2 || 1);
    const half = this.scaling === 'fit' ? own : own.map(() => Math.max(...own));
    this.halfSpans = half;
    const centre = range.map(([lo, hi]) => (lo + hi) / 2);
    const unit = (q: number[]) => q.map((v, k) => (v - centre[k]) / half[k]);
    const scale = (0.3 * Math.min(w, h));
    const [cy, sy, cp, sp] = [Math.cos(this.yaw), Math.sin(this.yaw), Math.cos(this.pitch), Math.sin(this.pitch)];
    // Axis 1 runs to the right, PC 1 up, PC 2 towards the viewer; then yaw about the vertical
    // and pitch about the horizontal.
    const screen = (q: number[]): [number, number] => {
      const [a, b, c] = unit(q);
      const x = cy * a + sy * c;
      const z = -sy * a + cy * c;
      const y = cp * b - sp * z;
      return [w / 2 + x * scale, h / 2 - y * scale];
    };
    const lengths = range.map(([, hi]) => hi || 1);
    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    AXES.forEach((name, k) => {
      const end = [0, 0, 0];
      end[k] = lengths[k];
      const [x0, y0] = screen([0, 0, 0]);
      const [x1, y1] = screen(end);
      ctx.strokeStyle = '#556';
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
      ctx.fillStyle = '#99a';
      ctx.fillText(name, x1 + 4, y1);
    });
    const line = (points: number[][], color: string, dot: number) => {
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      points.forEach((q, i) => (i ? ctx.lineTo(...screen(q)) : ctx.moveTo(...screen(q))));
      ctx.stroke();
      for (const q of points) {
        const [x, y] = screen(q);
        ctx.beginPath();
        ctx.arc(x, y, dot, 0, 2 * Math.PI);
        ctx.fill();
      }
    };
    line(p.denoised.slice(0, evals), '#60a5fa', 2.5);
    line(p.path.slice(0, steps), '#fb923c', 3);
    ctx.fillStyle = '#ccd';
    ctx.fillText('x_T', ...offset(screen(p.path[0])));
    ctx.fillText('x_0', ...offset(screen(p.path[p.path.length - 1])));
    const spans = range.map(([lo, hi]) => (hi - lo).toPrecision(2));
    const how = this.scaling === 'fit' ? 'each axis scaled to its range' : 'equal axes';
    ctx.fillText(`orange: x_t · blue: D(x_t) · ${how}: ${AXES.map((a, k) => `${a} ${spans[k]}`).join(', ')}`, 8, h - 8);
  }
}

function offset([x, y]: [number, number]): [number, number] {
  return [x + 6, y - 6];
}
