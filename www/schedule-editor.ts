// The schedule editor: a schedule as points (log sigma against step) that can be dragged with a
// pointer (mouse, pen, touch), or selected and moved with the keyboard, added and removed. An
// edit that would break the schedule (not strictly decreasing, outside the model's sigma range)
// is refused with a message and changes nothing.

/** Decades per arrow press (Shift: ten times as far). */
const KEY_DECADES = 0.02;
/** How near (canvas pixels) a press must be to pick a point up. */
const HIT_PX = 16;
/** Keyboard edits settle this long before they count (holding a key is one edit). */
const SETTLE_MS = 250;
const PAD = { left: 52, right: 14, top: 14, bottom: 30 };

/** A sigma as the editor writes it: 4 significant digits (short URLs, readable lists). */
const round = (v: number) => Number(v.toPrecision(4));
const fmt = (v: number) => (v === 0 ? '0' : v.toPrecision(4));

export interface EditorEvents {
  /** An accepted edit: the new list (strictly decreasing, only the last may be 0). */
  edit(sigmas: number[]): void;
  /** A refused edit, or '' when the next one is accepted. */
  refuse(why: string): void;
  /** The selected point, in words. */
  select(words: string): void;
}

export class ScheduleEditor {
  sigmas: number[] = [];
  selected = 0;
  private range: [number, number] = [0.002, 80];
  /** The chart's log10 sigma at its top and bottom edges, fixed between `show` calls so a point
   * under the pointer stays there. */
  private scale: [number, number] = [2, -3];
  private dragging = false;
  private timer?: number;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly on: EditorEvents, private readonly maxPoints: number) {
    canvas.addEventListener('pointerdown', (ev) => this.press(ev));
    canvas.addEventListener('pointermove', (ev) => this.drag(ev));
    canvas.addEventListener('pointerup', () => this.release());
    canvas.addEventListener('pointercancel', () => this.release());
    canvas.addEventListener('keydown', (ev) => this.key(ev));
  }

  /** Shows `sigmas` as the schedule to edit (not itself an edit); ignored mid-drag. */
  show(sigmas: number[], range: [number, number]): void {
    if (this.dragging) return;
    this.sigmas = [...sigmas];
    this.range = range;
    const positive = sigmas.filter((s) => s > 0);
    const top = Math.log10(Math.max(range[1], positive[0]));
    const bottom = Math.log10(Math.min(range[0], positive[positive.length - 1]));
    const margin = 0.04 * (top - bottom);
    this.scale = [top + margin, bottom - margin];
    this.selected = Math.min(this.selected, sigmas.length - 1);
    this.draw();
    this.announce();
  }

  /** Sets point `i` to `sigma` (rounded), or refuses. Returns whether it changed. */
  move(i: number, sigma: number): boolean {
    const v = round(sigma);
    const why = this.refusal(i, v);
    if (why) return this.refused(why);
    if (v === this.sigmas[i]) return false;
    this.sigmas[i] = v;
    return this.changed();
  }

  /** A point halfway (in log sigma) between the selected one and the next. */
  add(): boolean {
    const i = this.selected;
    if (this.sigmas.length >= this.maxPoints) return this.refused(`a schedule here has at most ${this.maxPoints} points`);
    if (i + 1 >= this.sigmas.length) return this.refused('select a point that has one after it: a new point goes between the selected point and the next');
    const next = this.sigmas[i + 1] > 0 ? this.sigmas[i + 1] : this.range[0];
    const exact = Math.sqrt(this.sigmas[i] * next);
    const v = round(exact) < this.sigmas[i] && round(exact) > next ? round(exact) : exact;
    if (!(v < this.sigmas[i] && v > next)) return this.refused(`no room between sigma ${i} = ${fmt(this.sigmas[i])} and ${fmt(next)}`);
    this.sigmas.splice(i + 1, 0, v);
    this.selected = i + 1;
    return this.changed();
  }

  remove(): boolean {
    const i = this.selected;
    if (i === 0) return this.refused('the first point is where sampling starts: drag it instead');
    if (this.sigmas.length <= 2) return this.refused('a schedule needs at least 2 points');
    this.sigmas.splice(i, 1);
    this.selected = Math.min(i, this.sigmas.length - 1);
    return this.changed();
  }

  private refusal(i: number, v: number): string | undefined {
    const [min, max] = this.range;
    const s = this.sigmas;
    if (s[i] === 0) return 'the final 0 stays 0 (a last step to x = D(x)); remove it to end at the point before';
    if (!(Number.isFinite(v) && v > 0)) return `sigma ${i} must be a number above 0`;
    if (i > 0 && v >= s[i - 1]) return `sigma ${i} must stay below sigma ${i - 1} = ${fmt(s[i - 1])}: a schedule decreases strictly`;
    if (i + 1 < s.length && v <= s[i + 1]) return `sigma ${i} must stay above sigma ${i + 1} = ${fmt(s[i + 1])}: a schedule decreases strictly`;
    if (v > max) return `sigma ${i} cannot go above the model's sigma_max ${max}`;
    if (v < min) return `sigma ${i} cannot go below the model's sigma_min ${min}`;
    return undefined;
  }

  private refused(why: string): false {
    this.on.refuse(why);
    return false;
  }

  private changed(): true {
    this.on.refuse('');
    this.draw();
    this.announce();
    return true;
  }

  private announce(): void {
    const i = this.selected;
    this.on.select(`point ${i} of ${this.sigmas.length - 1}: sigma ${fmt(this.sigmas[i])}`);
  }

  /** An edit counts after the keys settle (or at once: `now`). */
  private settle(now = false): void {
    clearTimeout(this.timer);
    const fire = () => this.on.edit([...this.sigmas]);
    if (now) fire();
    else this.timer = window.setTimeout(fire, SETTLE_MS);
  }

  private key(ev: KeyboardEvent): void {
    const i = this.selected;
    const factor = 10 ** (KEY_DECADES * (ev.shiftKey ? 10 : 1));
    let edited = false;
    switch (ev.key) {
      case 'ArrowLeft':
      case 'ArrowRight':
        this.selected = Math.max(0, Math.min(this.sigmas.length - 1, i + (ev.key === 'ArrowRight' ? 1 : -1)));
        this.draw();
        this.announce();
        break;
      case 'Home':
      case 'End':
        this.selected = ev.key === 'Home' ? 0 : this.sigmas.length - 1;
        this.draw();
        this.announce();
        break;
      case 'ArrowUp':
      case 'ArrowDown': {
        const target = this.sigmas[i] * (ev.key === 'ArrowUp' ? factor : 1 / factor);
        edited = this.move(i, target);
        break;
      }
      case '+':
      case 'Insert':
        edited = this.add();
        break;
      case '-':
      case 'Delete':
      case 'Backspace':
        edited = this.remove();
        break;
      default:
        return;
    }
    ev.preventDefault();
    if (edited) this.settle();
  }

  /** Where point `k` is on the screen (client coordinates; tests drag it). */
  clientPoint(k: number): [number, number] {
    const box = this.canvas.getBoundingClientRect();
    return [box.left + (this.x(k) * box.width) / this.canvas.width, box.top + (this.y(this.sigmas[k]) * box.height) / this.canvas.height];
  }

  private toCanvas(ev: PointerEvent): [number, number] {
    const box = this.canvas.getBoundingClientRect();
    return [((ev.clientX - box.left) * this.canvas.width) / box.width, ((ev.clientY - box.top) * this.canvas.height) / box.height];
  }

  private press(ev: PointerEvent): void {
    const [x, y] = this.toCanvas(ev);
    let best = -1;
    let bestD = HIT_PX;
    this.sigmas.forEach((s, k) => {
      const d = Math.hypot(this.x(k) - x, this.y(s) - y);
      if (d < bestD) [best, bestD] = [k, d];
    });
    if (best < 0) return;
    this.selected = best;
    this.canvas.focus();
    this.canvas.setPointerCapture(ev.pointerId);
    this.dragging = this.sigmas[best] > 0;
    this.draw();
    this.announce();
    ev.preventDefault();
  }

  private drag(ev: PointerEvent): void {
    if (!this.dragging) return;
    const [, y] = this.toCanvas(ev);
    this.move(this.selected, 10 ** this.logAt(y));
  }

  private release(): void {
    if (!this.dragging) return;
    this.dragging = false;
    this.settle(true);
  }

  private x(k: number): number {
    const w = this.canvas.width - PAD.left - PAD.right;
    return PAD.left + (this.sigmas.length > 1 ? (k / (this.sigmas.length - 1)) * w : 0);
  }

  /** Canvas y of a sigma (a final 0 sits on the bottom edge). */
  private y(s: number): number {
    const h = this.canvas.height - PAD.top - PAD.bottom;
    if (s <= 0) return PAD.top + h;
    const [top, bottom] = this.scale;
    return PAD.top + ((top - Math.log10(s)) / (top - bottom)) * h;
  }

  private logAt(y: number): number {
    const h = this.canvas.height - PAD.top - PAD.bottom;
    const [top, bottom] = this.scale;
    return top - ((y - PAD.top) / h) * (top - bottom);
  }

  draw(): void {
    const c = this.canvas.getContext('2d')!;
    const { width, height } = this.canvas;
    c.fillStyle = '#12151f';
    c.fillRect(0, 0, width, height);
    c.font = '11px system-ui, sans-serif';
    c.fillStyle = '#8890a8';
    c.strokeStyle = '#262c3d';
    c.lineWidth = 1;
    const [top, bottom] = this.scale;
    for (let d = Math.ceil(bottom); d <= Math.floor(top); d++) {
      const y = this.y(10 ** d);
      c.beginPath();
      c.moveTo(PAD.left, y);
      c.lineTo(width - PAD.right, y);
      c.stroke();
      c.fillText(d === 0 ? '1' : `1e${d}`, 6, y + 4);
    }
    c.fillText('step', width / 2 - 12, height - 6);
    if (this.sigmas.length === 0) return;
    c.strokeStyle = '#60a5fa';
    c.lineWidth = 1.5;
    c.beginPath();
    this.sigmas.forEach((s, k) => (k ? c.lineTo(this.x(k), this.y(s)) : c.moveTo(this.x(k), this.y(s))));
    c.stroke();
    this.sigmas.forEach((s, k) => {
      const chosen = k === this.selected;
      c.fillStyle = s === 0 ? '#8890a8' : chosen ? '#fb923c' : '#60a5fa';
      c.beginPath();
      c.arc(this.x(k), this.y(s), chosen ? 7 : 4.5, 0, 2 * Math.PI);
      c.fill();
      if (chosen) {
        c.fillStyle = '#e8e8ef';
        const label = `${k}: ${fmt(s)}`;
        const tx = Math.min(this.x(k) + 10, width - PAD.right - c.measureText(label).width);
        c.fillText(label, tx, Math.max(PAD.top + 10, this.y(s) - 10));
      }
    });
  }
}
