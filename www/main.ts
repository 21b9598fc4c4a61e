// The 2-D playground: URL parameters and controls -> plan -> samples -> canvas.
import { createSampler, sample, type SampleRequest, type SampleResult } from './sampler.js';
import { densityGrid, type Gmm } from './density.js';
import { drawDensity, drawTrajectories, type View } from './plot.js';
import { PAPER, newSearch, offerComputed, wireGitsPanel } from './gits.js';
import { MNIST_MODEL, drawDigits, loadMnist, sampleDigits } from './digits.js';
import type { Model, Sampler } from './pkg/gits_sampler.js';

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
  }
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

function readForm(): SampleRequest {
  const get = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  const int = (name: string, min: number, max: number) => {
    const v = Number(get(name));
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${get(name)}"`);
    return v;
  };
  return {
    solver: get('solver'),
    schedule: get('schedule'),
    nfe: int('nfe', 1, 200),
    seed: int('seed', 0, Number.MAX_SAFE_INTEGER),
    batch: int('batch', 1, 4096),
    sigmaMin: 0.002,
    sigmaMax: 80,
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
function wireDigits(sampler: Sampler): () => Promise<void> {
  const digitsForm = $<HTMLFormElement>('#digits-controls');
  const view = $<HTMLCanvasElement>('#digits-view');
  const note = $<HTMLElement>('#digits-result');
  let model: Promise<Model> | undefined;
  const loadModel = async () => {
    model ??= loadMnist(sampler);
    return model.catch((e: unknown) => {
      model = undefined;
      throw e;
    });
  };
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
      const req = {
        solver: get('solver'),
        schedule: get('schedule'),
        label: get('label'),
        guidance: num('guidance', 0, 20, false),
        nfe: num('nfe', 1, 200),
        seed: num('seed', 0, Number.MAX_SAFE_INTEGER),
        batch: num('batch', 1, 256),
      };
      document.body.dataset.digits = 'loading';
      note.textContent = 'Loading the model…';
      const m = await loadModel();
      document.body.dataset.digits = 'sampling';
      note.textContent = 'Sampling…';
      const t0 = performance.now();
      const r = await sampleDigits(sampler, m, req, window.digitsGitsFile);
      const ms = performance.now() - t0;
      drawDigits(view, r.samples, r.batch);
      window.digitsLast = r;
      document.body.dataset.digits = 'ready';
      note.textContent = `${r.batch} digits with ${req.solver} on ${req.schedule}, NFE ${r.nfe}, guidance ${req.guidance}, in ${ms.toFixed(0)} ms`;
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
  wireGitsPanel('digits-gits', async () => {
    const points = num('gits-grid', 3, 201);
    const options = { ...PAPER, grid: `polynomial:${points}`, warmup: num('gits-warmup', 1, 4096), maxSteps: Math.min(10, points - 1), chunk: 2 };
    return newSearch({ model: await loadModel(), id: MNIST_MODEL }, options);
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
  const [sampler, gmmText] = await Promise.all([
    createSampler(params.get('backend') !== 'cpu'),
    fetch(MODEL).then((r) => {
      if (!r.ok) throw new Error(`cannot load ${MODEL}: HTTP ${r.status}`);
      return r.text();
    }),
  ]);
  status.textContent = `Backend: ${sampler.description}${sampler.backend === 'webgpu' ? await adapterInfo() : ''}`;
  document.body.dataset.backend = sampler.backend;
  const density = densityGrid(JSON.parse(gmmText) as Gmm, GRID, VIEW.lo, VIEW.hi);

  const run = async () => {
    try {
      const req = readForm();
      setState('sampling', 'Sampling…');
      const t0 = performance.now();
      const r = await sample(sampler, gmmText, req, window.gitsFile, afsChecked() && req.schedule === 'gits');
      const ms = performance.now() - t0;
      drawDensity(canvas, density, GRID);
      drawTrajectories(canvas, VIEW, r, (form.elements.namedItem('denoised') as HTMLInputElement).checked);
      window.gitsLast = r;
      setState('ready', `${r.batch} samples with ${req.solver} on ${req.schedule}, NFE ${r.nfe}, in ${ms.toFixed(0)} ms`);
    } catch (e) {
      setState('error', `Error: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run();
  });
  wireGitsPanel('gits', async () => newSearch({ json: gmmText, id: MODEL }, { ...PAPER, afsStudent: afsChecked() ? 'ipndm' : undefined }), async (file) => {
    window.gitsFile = file;
    offerComputed(form.elements.namedItem('schedule') as HTMLSelectElement, 'gits');
    await run();
  });
  const runDigits = wireDigits(sampler);
  await run();
  if (params.has('digits')) await runDigits();
}

main().catch((e) => {
  status.textContent = 'Backend: not started';
  setState('error', `Error: ${e instanceof Error ? e.message : String(e)}`);
});
