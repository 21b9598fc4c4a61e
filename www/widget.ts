// <gits-sampler model card solver schedule sigmas nfe seed batch label guidance controls autoplay
// base>:
// samples and their trajectory in a documentation page, from one ES module. Every widget of a
// page shares one sampling worker, so one WebGPU device. Attribute values are validated like URL
// parameters; a bad one is shown as text in the widget. `base` (read before the first sample)
// says where the worker, wasm and models are when they are not next to this module. An ONNX model
// on the page's site is `model="url:PATH"`, with its card at `card="PATH"` (docs/embed.md).
import { setAssetBase } from './base.js';
import { Engine } from './engine.js';
import { drawShown, sampleWith, type Shown } from './view.js';
import { FIELDS, SCHEDULES, SOLVERS, parseSettings } from './settings.js';
import { openHosted } from './own-model.js';

const FRAME_MS = 300;

const STYLE = `
:host { display: inline-block; width: 320px; max-width: 100%; font: 13px system-ui, sans-serif; color: #e8e8ef; background: #10131c; border-radius: 8px; padding: 8px; box-sizing: border-box; vertical-align: top; }
canvas { width: 100%; aspect-ratio: 1; display: block; border-radius: 6px; background: #12151f; image-rendering: pixelated; }
p { margin: 6px 0 0; color: #aab; min-height: 1.2em; }
:host([data-state="error"]) p { color: #ff8a8a; }
form { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 6px; }
select, input, button { font: inherit; padding: 2px 4px; background: #1c2130; color: inherit; border: 1px solid #3a4258; border-radius: 4px; }
input { width: 4.5em; }
button { background: #3b5bdb; border-color: #3b5bdb; cursor: pointer; }
`;

export class GitsSamplerElement extends HTMLElement {
  static observedAttributes = [...FIELDS, 'sigmas', 'card'];
  private readonly canvas = document.createElement('canvas');
  private readonly caption = document.createElement('p');
  private shown?: Shown;
  private timer?: number;
  private pending?: number;
  /** The last result, for tests and the console. */
  last?: Shown['r'];

  connectedCallback(): void {
    if (!this.shadowRoot) this.build();
    void this.run();
  }

  disconnectedCallback(): void {
    clearInterval(this.timer);
  }

  attributeChangedCallback(): void {
    if (!this.isConnected || !this.shadowRoot) return;
    // Several attributes often change together: sample once for all of them.
    clearTimeout(this.pending);
    this.pending = window.setTimeout(() => void this.run());
  }

  private build(): void {
    const root = this.attachShadow({ mode: 'open' });
    // A constructed stylesheet, not a <style> element: a page's style-src CSP blocks inline
    // <style> but not stylesheets made by script (docs/embed.md#content-security-policy).
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
    this.canvas.setAttribute('role', 'img');
    this.caption.setAttribute('aria-live', 'polite');
    root.append(this.canvas, this.caption);
    if (this.hasAttribute('controls')) root.append(this.controls());
  }

  /** Solver, schedule, NFE and seed pickers that write the attributes (and so resample). */
  private controls(): HTMLFormElement {
    const form = document.createElement('form');
    const select = (name: string, label: string, options: [string, string][]) => {
      const el = document.createElement('select');
      el.name = name;
      el.setAttribute('aria-label', label);
      for (const [value, text] of options) el.add(new Option(text, value));
      return el;
    };
    const number = (name: string, label: string, min: number) => {
      const el = document.createElement('input');
      Object.assign(el, { name, type: 'number', min: String(min) });
      el.setAttribute('aria-label', label);
      return el;
    };
    const fields = [select('solver', 'Solver', SOLVERS), select('schedule', 'Schedule', SCHEDULES.filter(([v]) => v !== 'gits-here' && v !== 'custom')), number('nfe', 'NFE', 1), number('seed', 'Seed', 0)];
    const button = document.createElement('button');
    button.textContent = 'Generate';
    form.append(...fields, button);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      for (const f of fields) this.setAttribute(f.name, f.value); // resamples
    });
    return form;
  }

  private syncControls(s: Record<string, unknown>): void {
    const form = this.shadowRoot?.querySelector('form');
    for (const el of form?.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[name]') ?? []) el.value = String(s[el.name]);
  }

  private async run(): Promise<void> {
    clearInterval(this.timer);
    try {
      const base = this.getAttribute('base');
      if (base !== null && !Engine.started) setAssetBase(base);
      const engine = Engine.shared();
      const model = this.getAttribute('model');
      if (model?.startsWith('url:')) {
        this.dataset.state = 'sampling';
        this.caption.textContent = `Opening ${model.slice(4)}…`;
        await openHosted(engine, model.slice(4), this.getAttribute('card'));
      }
      const s = parseSettings((name) => this.getAttribute(name));
      this.syncControls(s as unknown as Record<string, unknown>);
      this.dataset.state = 'sampling';
      this.caption.textContent = 'Sampling…';
      const shown = await sampleWith(engine, s);
      this.shown = shown;
      this.last = shown.r;
      const { r } = shown;
      const what = `${r.batch} ${shown.model.kind === 'image' && !shown.model.onnx ? 'digits' : 'samples'}, ${s.solver} on ${s.schedule}, NFE ${r.nfe}`;
      this.canvas.setAttribute('aria-label', `${what}: ${shown.model.label}`);
      this.caption.textContent = `${what} (${(await engine.backend).backend === 'webgpu' ? 'WebGPU' : 'CPU'})`;
      this.dataset.state = 'ready';
      if (this.hasAttribute('autoplay')) this.play();
      else drawShown(this.canvas, shown, r.stepSigmas.length - 1, true);
    } catch (e) {
      this.dataset.state = 'error';
      this.caption.textContent = `Error: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** Steps through the trajectory from x_T to the sample, then rests on the sample. */
  private play(): void {
    const shown = this.shown!;
    const last = shown.r.stepSigmas.length - 1;
    let k = 0;
    this.timer = window.setInterval(() => {
      drawShown(this.canvas, shown, k, true);
      if (++k > last) clearInterval(this.timer);
    }, FRAME_MS);
  }
}

export { setAssetBase };

if (!customElements.get('gits-sampler')) customElements.define('gits-sampler', GitsSamplerElement);
