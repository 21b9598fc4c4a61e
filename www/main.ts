// The 2-D playground: URL parameters and controls -> plan -> samples -> canvas. All sampling and
// GITS searches run in the sampling worker (engine.ts).
import { Engine } from './engine.js';
import { densityGrid, type Gmm } from './density.js';
import { drawDensity, drawTrajectories, type View } from './plot.js';
import { PAPER, offerComputed, wireGitsPanel } from './gits.js';
import { MNIST_MODEL, drawDigits, shippedGits } from './digits.js';
import type { SampleArgs, SampleResult } from './protocol.js';
import { boomerang, type Boomerang } from './boomerang.js';
import { drawPanels } from './chart.js';

const VIEW: View = { lo: -2.5, hi: 2.5 };
const GRID = 200;
const MODEL = 'models/eight-gaussians.gmm.json';

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>('#controls');
const canvas = $<HTMLCanvasElement>('#view');
const status = $<HTMLElement>('#status');
const result = $<HTMLElement>('#result');

declare global {
  interface Window {
    gitsLast?: SampleResult;
    gitsFile?: string;
    digitsLast?: SampleResult;
    digitsGitsFile?: string;
    boomerangLast?: Boomerang;
  }
}

/** The boomerang view of a result into `canvas`. */
function showBoomerang(canvas: HTMLCanvasElement, r: SampleResult): void {
  const b = boomerang(r);
  window.boomerangLast = b;
  drawPanels(canvas, [
    { title: 'deviation from the line x_T -> x_0 (mean ± std)', sigmas: b.sigmas, band: b.deviation, color: '#fb923c' },
    { title: 'distance to x_0', sigmas: b.sigmas, band: b.toEnd, color: '#60a5fa' },
  ]);
}

function setState(state: 'loading' | 'sampling' | 'ready' | 'error', message: string): void {
  document.body.dataset.state = state;
  result.textContent = message;
}

/** URL parameters override the form's defaults (solver, schedule, nfe, seed, batch). */
function applyUrl(params: URLSearchParams): void {
  for (const name of ['solver', 'schedule', 'nfe', 'seed', 'batch']) {
    const value = params.get(name);
    const field = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
    if (value !== null && field) field.value = value;
  }
}

function readForm(): SampleArgs {
  const get = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  const int = (name: string, min: number, max: number) => {
    const v = Number(get(name));
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${get(name)}"`);
    return v;
  };
  const schedule = get('schedule');
  return {
    model: MODEL,
    plan: { solver: get('solver'), schedule, nfe: int('nfe', 1, 200), gits: window.gitsFile, afs: afsChecked() && schedule === 'gits' },
    seed: int('seed', 0, Number.MAX_SAFE_INTEGER),
    batch: int('batch', 1, 4096),
  };
}

/** The browser's own words for its WebGPU adapter (wgpu leaves the name empty on the web). */
async function adapterInfo(): Promise<string> {
  type Info = { vendor?: string; architecture?: string; description?: string };
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: Info } | null> } }).gpu;
  const info = (await gpu?.requestAdapter().catch(() => null))?.info;
  const words = [info?.vendor, info?.architecture, info?.description].filter((w) => w).join(' ');
  return words ? ` [${words}]` : '';
}

/** Whether the GITS panel asks for AFS (search and sampling on the GITS schedule). */
function afsChecked(): boolean {
  return (form.elements.namedItem('afs') as HTMLInputElement).checked;
}

/** The MNIST section: the model loads on first use; body[data-digits] tracks the state. */
function wireDigits(engine: Engine): () => Promise<void> {
  const digitsForm = $<HTMLFormElement>('#digits-controls');
  const view = $<HTMLCanvasElement>('#digits-view');
  const note = $<HTMLElement>('#digits-result');
  // The solver and schedule lists are the 2-D form's; GITS here is the schedule shipped for the
  // model, or one computed in the page.
  for (const select of digitsForm.querySelectorAll<HTMLSelectElement>('select[data-options-from]')) {
    const source = form.elements.namedItem(select.dataset.optionsFrom!) as HTMLSelectElement;
    for (const option of source.options) if (option.value !== 'gits') select.add(option.cloneNode(true) as HTMLOptionElement);
  }
  const scheduleSelect = digitsForm.elements.namedItem('schedule') as HTMLSelectElement;
  scheduleSelect.add(new Option('GITS (searched for this model, NFE 3-10)', 'gits'));
  const computed = new Option('GITS (compute below)', 'gits-here');
  computed.disabled = true;
  scheduleSelect.add(computed);
  const get = (name: string) => (digitsForm.elements.namedItem(name) as HTMLInputElement).value;
  const num = (name: string, min: number, max: number, integer = true) => {
    const v = Number(get(name));
    if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got "${get(name)}"`);
    }
    return v;
  };
  const run = async () => {
    try {
      const schedule = get('schedule');
      const gits = schedule === 'gits' ? await shippedGits() : schedule === 'gits-here' ? window.digitsGitsFile : undefined;
      const req: SampleArgs = {
        model: MNIST_MODEL,
        plan: { solver: get('solver'), schedule: schedule.startsWith('gits') ? 'gits' : schedule, nfe: num('nfe', 1, 200), gits },
        label: get('label'),
        guidance: num('guidance', 0, 20, false),
        seed: num('seed', 0, Number.MAX_SAFE_INTEGER),
        batch: num('batch', 1, 256),
      };
      document.body.dataset.digits = 'sampling';
      note.textContent = 'Loading the model and sampling…';
      const t0 = performance.now();
      const r = await engine.sample(req);
      const ms = performance.now() - t0;
      drawDigits(view, r.samples, r.batch);
      showBoomerang($<HTMLCanvasElement>('#digits-boomerang'), r);
      window.digitsLast = r;
      document.body.dataset.digits = 'ready';
      note.textContent = `${r.batch} digits with ${req.plan.solver} on ${schedule}, NFE ${r.nfe}, guidance ${req.guidance}, in ${ms.toFixed(0)} ms`;
    } catch (e) {
      document.body.dataset.digits = 'error';
      note.textContent = `Error: ${e instanceof Error ? e.message : String(e)}`;
    }
  };
  digitsForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run();
  });
  // GITS for the network, on this page's backend; small chunks keep the progress bar moving.
  wireGitsPanel('digits-gits', (onProgress) => {
    const points = num('gits-grid', 3, 201);
    const options = { ...PAPER, grid: `polynomial:${points}`, warmup: num('gits-warmup', 1, 4096), maxSteps: Math.min(10, points - 1), chunk: 2 };
    return engine.gits(MNIST_MODEL, options, onProgress);
  }, async (file) => {
    window.digitsGitsFile = file;
    offerComputed(scheduleSelect, 'gits-here');
    await run();
  });
  return run;
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  applyUrl(params);
  const engine = Engine.shared(params.get('backend') !== 'cpu');
  const [info, gmmText] = await Promise.all([
    engine.backend,
    fetch(MODEL).then((r) => {
      if (!r.ok) throw new Error(`cannot load ${MODEL}: HTTP ${r.status}`);
      return r.text();
    }),
  ]);
  status.textContent = `Backend: ${info.description}${info.backend === 'webgpu' ? await adapterInfo() : ''}`;
  document.body.dataset.backend = info.backend;
  const density = densityGrid(JSON.parse(gmmText) as Gmm, GRID, VIEW.lo, VIEW.hi);

  const run = async () => {
    try {
      const req = readForm();
      setState('sampling', 'Sampling…');
      const t0 = performance.now();
      const r = await engine.sample(req);
      const ms = performance.now() - t0;
      drawDensity(canvas, density, GRID);
      drawTrajectories(canvas, VIEW, r, (form.elements.namedItem('denoised') as HTMLInputElement).checked);
      showBoomerang($<HTMLCanvasElement>('#boomerang'), r);
      window.gitsLast = r;
      setState('ready', `${r.batch} samples with ${req.plan.solver} on ${req.plan.schedule}, NFE ${r.nfe}, in ${ms.toFixed(0)} ms`);
    } catch (e) {
      setState('error', `Error: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run();
  });
  wireGitsPanel('gits', (onProgress) => engine.gits(MODEL, { ...PAPER, afsStudent: afsChecked() ? 'ipndm' : undefined }, onProgress), async (file) => {
    window.gitsFile = file;
    offerComputed(form.elements.namedItem('schedule') as HTMLSelectElement, 'gits');
    await run();
  });
  const runDigits = wireDigits(engine);
  await run();
  if (params.has('digits')) await runDigits();
}

main().catch((e) => {
  status.textContent = 'Backend: not started';
  setState('error', `Error: ${e instanceof Error ? e.message : String(e)}`);
});
