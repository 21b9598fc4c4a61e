// The playground: settings (form <-> URL) -> the sampling worker -> views of the samples and
// their trajectories, animated step by step; the GITS panel searches a schedule for the model.
import { Engine } from './engine.js';
import { drawShown, sampleWith, type Shown } from './view.js';
import { PAPER, offerComputed, wireGitsPanel } from './gits.js';
import { drawStrip } from './digits.js';
import { boomerang, type Boomerang } from './boomerang.js';
import { drawPanels } from './chart.js';
import { renderPlan } from './plan-table.js';
import { MODELS, modelById } from './models.js';
import { FIELDS, SCHEDULES, SOLVERS, defaults, parseSettings, toParams, type Settings } from './settings.js';
import type { SampleResult } from './protocol.js';

const FRAME_MS = 350;

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>('#controls');
const canvas = $<HTMLCanvasElement>('#view');
const status = $<HTMLElement>('#status');
const result = $<HTMLElement>('#result');
const stepInput = $<HTMLInputElement>('#step');
const field = <T extends HTMLInputElement | HTMLSelectElement>(name: string) => form.elements.namedItem(name) as T;

declare global {
  interface Window {
    /** The last result shown, for tests and the console. */
    last?: SampleResult;
    /** The last GITS file computed in the page. */
    gitsFile?: string;
    boomerangLast?: Boomerang;
  }
}

/** GITS files computed in this page, by model id. */
const computed = new Map<string, string>();
let shown: Shown | undefined;

function setState(state: 'loading' | 'sampling' | 'ready' | 'error', message: string): void {
  document.body.dataset.state = state;
  result.textContent = message;
  $<HTMLProgressElement>('#progress').hidden = state !== 'sampling';
}

function fill(select: HTMLSelectElement, options: [string, string][]): void {
  for (const [value, label] of options) select.add(new Option(label, value));
}

/** Puts settings into the form, with the options that make sense for the model. */
function applySettings(s: Settings): void {
  const model = modelById(s.model);
  for (const el of form.querySelectorAll<HTMLElement>('[data-classes]')) el.hidden = !model.classes;
  const schedules = field<HTMLSelectElement>('schedule');
  for (const option of schedules.options) {
    if (option.value === 'gits') option.disabled = !model.gits;
    if (option.value === 'gits-here') option.disabled = !computed.has(model.id);
  }
  for (const name of FIELDS) field(name).value = String(s[name]);
  field<HTMLInputElement>('nfe-slider').value = String(Math.min(s.nfe, 50));
  field<HTMLInputElement>('batch').max = model.kind === 'image' ? '256' : '4096';
  field<HTMLInputElement>('gits-warmup').value = model.kind === 'image' ? '32' : '256';
}

function readSettings(): Settings {
  return parseSettings((name) => {
    const el = field(name);
    return el.closest('[hidden]') ? null : el.value;
  });
}

/** A new model keeps the solver, schedule (where the model has it), NFE and seed. */
function switchModel(id: string): void {
  const model = modelById(id);
  const s = defaults(model);
  s.solver = field('solver').value;
  s.seed = Number(field('seed').value) || 0;
  s.nfe = Number(field('nfe').value) || s.nfe;
  const schedule = field('schedule').value;
  s.schedule = (schedule === 'gits' && !model.gits) || (schedule === 'gits-here' && !computed.has(id)) ? 'polynomial:7' : schedule;
  applySettings(s);
}

/** Draws the shown result at step `k`. */
function drawStep(k: number): void {
  if (!shown) return;
  const { r } = shown;
  $<HTMLElement>('#step-label').textContent = `${k} / ${r.stepSigmas.length - 1}, sigma ${r.stepSigmas[k].toPrecision(3)}`;
  drawShown(canvas, shown, k, field<HTMLInputElement>('denoised').checked);
}

async function generate(engine: Engine): Promise<void> {
  try {
    const s = readSettings();
    const model = modelById(s.model);
    const params = toParams(s);
    const backend = new URLSearchParams(location.search).get('backend');
    if (backend) params.set('backend', backend);
    history.replaceState(null, '', `?${params}`);
    setState('sampling', model.kind === 'image' ? 'Loading the model and sampling…' : 'Sampling…');
    const afs = field<HTMLInputElement>('afs').checked && s.schedule === 'gits-here';
    const t0 = performance.now();
    shown = await sampleWith(engine, s, computed.get(model.id), afs);
    const ms = performance.now() - t0;
    const { r } = shown;
    window.last = r;
    stepInput.max = String(r.stepSigmas.length - 1);
    stepInput.value = stepInput.max;
    drawStep(r.stepSigmas.length - 1);
    const strip = $<HTMLCanvasElement>('#strip');
    strip.hidden = model.kind !== 'image';
    if (model.kind === 'image') drawStrip(strip, r);
    const b = boomerang(r);
    window.boomerangLast = b;
    drawPanels($<HTMLCanvasElement>('#boomerang'), [
      { title: 'deviation from the line x_T -> x_0 (mean ± std)', sigmas: b.sigmas, band: b.deviation, color: '#fb923c' },
      { title: 'distance to x_0', sigmas: b.sigmas, band: b.toEnd, color: '#60a5fa' },
    ]);
    renderPlan($<HTMLTableElement>('#plan'), r.plan);
    const what = model.kind === 'image' ? 'digits' : 'samples';
    const guided = model.classes ? `, guidance ${s.guidance}` : '';
    setState('ready', `${r.batch} ${what} with ${s.solver} on ${s.schedule}, NFE ${r.nfe}${guided}, in ${ms.toFixed(0)} ms`);
  } catch (e) {
    setState('error', `Error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Play: steps through the trajectory from x_T to the sample, one frame per step. */
function wirePlayer(): void {
  const play = $<HTMLButtonElement>('#play');
  let timer: number | undefined;
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
    play.textContent = 'Play';
  };
  play.addEventListener('click', () => {
    if (timer !== undefined || !shown) return stop();
    let k = 0;
    play.textContent = 'Pause';
    timer = window.setInterval(() => {
      stepInput.value = String(k);
      drawStep(k);
      if (++k > Number(stepInput.max)) stop();
    }, FRAME_MS);
  });
  stepInput.addEventListener('input', () => {
    stop();
    drawStep(Number(stepInput.value));
  });
  field<HTMLInputElement>('denoised').addEventListener('change', () => drawStep(Number(stepInput.value)));
}

/** The browser's own words for its WebGPU adapter (wgpu leaves the name empty on the web). */
async function adapterInfo(): Promise<string> {
  type Info = { vendor?: string; architecture?: string; description?: string };
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: Info } | null> } }).gpu;
  const info = (await gpu?.requestAdapter().catch(() => null))?.info;
  const words = [info?.vendor, info?.architecture, info?.description].filter((w) => w).join(' ');
  return words ? ` [${words}]` : '';
}

async function main(): Promise<void> {
  fill(field('model'), MODELS.map((m) => [m.id, m.label]));
  fill(field('solver'), SOLVERS);
  fill(field('schedule'), SCHEDULES);
  const params = new URLSearchParams(location.search);
  let problem: string | undefined;
  try {
    applySettings(parseSettings((name) => params.get(name)));
  } catch (e) {
    problem = `Error in the URL: ${e instanceof Error ? e.message : String(e)}`;
    applySettings(defaults());
  }
  const engine = Engine.shared(params.get('backend') !== 'cpu');
  field('model').addEventListener('change', () => switchModel(field('model').value));
  const slider = field<HTMLInputElement>('nfe-slider');
  slider.addEventListener('input', () => { field('nfe').value = slider.value; });
  field('nfe').addEventListener('input', () => { slider.value = field('nfe').value; });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void generate(engine);
  });
  wirePlayer();
  wireGitsPanel('gits', (onProgress) => {
    const model = modelById(field('model').value);
    const num = (name: string, min: number, max: number) => {
      const v = Number(field(name).value);
      if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${field(name).value}"`);
      return v;
    };
    const points = num('gits-grid', 3, 201);
    const options = {
      ...PAPER,
      grid: `polynomial:${points}`,
      warmup: num('gits-warmup', 1, 4096),
      maxSteps: Math.min(20, points - 1),
      afsStudent: field<HTMLInputElement>('afs').checked ? 'ipndm' : undefined,
      chunk: model.kind === 'image' ? 2 : undefined, // keeps progress and cancel quick on the U-Net
    };
    return engine.gits(model.url, options, onProgress);
  }, async (file) => {
    const model = modelById(field('model').value);
    computed.set(model.id, file);
    window.gitsFile = file;
    offerComputed(field('schedule'), 'gits-here');
    await generate(engine);
  });
  const info = await engine.backend;
  status.textContent = `Backend: ${info.description}${info.backend === 'webgpu' ? await adapterInfo() : ''}`;
  document.body.dataset.backend = info.backend;
  if (problem) setState('error', problem);
  else await generate(engine);
}

main().catch((e) => {
  status.textContent = 'Backend: not started';
  setState('error', `Error: ${e instanceof Error ? e.message : String(e)}`);
});
