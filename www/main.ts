// The playground: settings (form <-> URL) -> the sampling worker -> views of the samples and
// their trajectories, animated step by step; the GITS panel searches a schedule for the model.
import { Engine, MAX_WORKERS } from './engine.js';
import { drawShown, layoutOf, sampleWith, type SampleOptions, type Shown } from './view.js';
import { offerComputed, readGitsOptions, wireGitsPanel } from './gits.js';
import { drawStrip, fillingGrid } from './digits.js';
import { boomerang, type Boomerang } from './boomerang.js';
import { drawPanels } from './chart.js';
import { AXES_SCALINGS, Orbit, type AxesScaling } from './orbit.js';
import { evalsAt } from './plot.js';
import type { Curve, Measured } from './compare.js';
import { runCompare, runSweep, type ComparePage } from './compare-panel.js';
import { renderPlan } from './plan-table.js';
import { Lab } from './lab.js';
import { GitsMap } from './gits-map.js';
import { MODELS, modelById, type CatalogueEntry } from './models.js';
import { showInfo, wireOwnModel } from './own-model-panel.js';
import { openHosted } from './own-model.js';
import { ENDS_AT_ZERO, FIELDS, NOISE_SOURCES, ODE_SOLVERS, SCHEDULES, STOCHASTIC_SOLVERS, solverBase, stochasticParams, defaults, parseSettings, shippedGits, sigmaList, toParams, type Settings } from './settings.js';
import type { Projection, SampledRows, SampleResult } from './protocol.js';

const FRAME_MS = 350;

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>('#controls');
const canvas = $<HTMLCanvasElement>('#view');
const status = $<HTMLElement>('#status');
const result = $<HTMLElement>('#result');
const stepInput = $<HTMLInputElement>('#step');
const orbit = new Orbit($<HTMLCanvasElement>('#orbit'));
const field = <T extends HTMLInputElement | HTMLSelectElement>(name: string) => form.elements.namedItem(name) as T;

declare global {
  interface Window {
    /** The last result shown, for tests and the console. */
    last?: SampleResult;
    /** The last GITS file computed in the page. */
    gitsFile?: string;
    boomerangLast?: Boomerang;
    /** The 3-D view's projection and view angles. */
    projectionLast?: Projection;
    orbit?: Orbit;
    compareLast?: Measured[];
    sweepLast?: Curve[];
    /** The page's sampling engine (tests use its `destroyDevice` hook). */
    engine?: Engine;
    /** The schedule lab (tests drag its editor's points). */
    lab?: Lab;
  }
}

/** GITS files computed in this page, by model id. */
const computed = new Map<string, string>();
let shown: Shown | undefined;
let projection: Projection | undefined;
/** Whether the comparison is part of the page's state (and URL). */
let comparing = false;
const B_FIELDS = ['solver', 'schedule', 'nfe'] as const;
let lab: Lab | undefined;
let gitsMap: GitsMap | undefined;

function setState(state: 'loading' | 'sampling' | 'ready' | 'error', message: string): void {
  document.body.dataset.state = state;
  result.textContent = message;
  const bar = $<HTMLProgressElement>('#progress');
  bar.hidden = state !== 'sampling';
  if (state === 'sampling') bar.removeAttribute('value'); // indeterminate until the first evaluation reports
}

/** A user timing of the page's first sample: marked once, so entries do not pile up. */
function markOnce(name: string): void {
  if (performance.getEntriesByName(name, 'mark').length === 0) performance.mark(name);
}

/** The class picker's options for the model's classes (the first 100 by number). */
function fillClasses(model: CatalogueEntry): void {
  const select = field<HTMLSelectElement>('label');
  const classes = Math.min(model.classes ?? 0, 100);
  if (select.dataset.classes === String(classes)) return;
  select.dataset.classes = String(classes);
  select.replaceChildren(new Option(classes ? `0–${classes - 1} in turn` : 'in turn', 'cycle'));
  for (let c = 0; c < classes; c++) select.add(new Option(String(c), String(c)));
  select.add(new Option('unconditional', 'none'));
}

function fill(select: HTMLSelectElement, options: [string, string][]): void {
  for (const [value, label] of options) select.add(new Option(label, value));
}

/** A solver menu: ODE and stochastic solvers in groups of their own. */
function fillSolvers(select: HTMLSelectElement): void {
  for (const [label, solvers] of [['ODE', ODE_SOLVERS], ['stochastic', STOCHASTIC_SOLVERS]] as const) {
    const group = document.createElement('optgroup');
    group.label = label;
    for (const [value, name] of solvers) group.append(new Option(name, value));
    select.append(group);
  }
}

/** Shows `solver` in the form: the menu's entry and, for a stochastic one, its parameters (the
 * name's, else the defaults) in the stochastic fieldset. */
function applySolver(solver: string): void {
  const { base, stochastic } = solverBase(solver);
  field('solver').value = base;
  $<HTMLFieldSetElement>('#stochastic').hidden = !stochastic;
  if (!stochastic) return;
  const given = solver.split(':').slice(1);
  const params = stochasticParams(base);
  for (const el of form.querySelectorAll<HTMLElement>('#stochastic [data-param]')) el.hidden = !params.some(([name]) => name === el.dataset.param);
  params.forEach(([name, def], i) => (field(`p-${name}`).value = given[i] ?? String(def)));
}

/** The form's solver: the menu's, with a stochastic solver's parameters (trailing defaults left
 * off, so it reads as the CLI's name). */
function formSolver(): string {
  const base = field('solver').value;
  if (!solverBase(base).stochastic) return base;
  const params = stochasticParams(base);
  const values = params.map(([name, def]) => field(`p-${name}`).value.trim() || String(def));
  while (values.length && Number(values.at(-1)) === params[values.length - 1][1]) values.pop();
  return values.length ? `${base}:${values.join(':')}` : base;
}

/** Puts settings into the form, with the options that make sense for the model. */
function applySettings(s: Settings): void {
  const model = modelById(s.model);
  for (const el of form.querySelectorAll<HTMLElement>('[data-classes]')) el.hidden = !model.classes;
  fillClasses(model);
  showInfo(model.onnx);
  if (![...field<HTMLSelectElement>('model').options].some((o) => o.value === model.id)) field<HTMLSelectElement>('model').add(new Option(model.label, model.id));
  for (const name of ['schedule', 'b-schedule']) {
    for (const option of field<HTMLSelectElement>(name).options) {
      if (option.value === 'gits' || option.value === 'gits-paper') option.disabled = !shippedGits(model, option.value);
      if (option.value === 'gits-here') option.disabled = !computed.has(model.id);
    }
  }
  for (const name of FIELDS) field(name).value = String(s[name]);
  applySolver(s.solver);
  field('sigmas').value = s.sigmas?.join(',') ?? '';
  field<HTMLInputElement>('nfe-slider').value = String(Math.min(s.nfe, 50));
  field<HTMLInputElement>('batch').max = model.kind === 'image' ? '256' : '4096';
  field<HTMLInputElement>('gits-warmup').value = model.kind === 'image' ? '32' : '256';
}

function formValue(name: string): string | null {
  if (name === 'solver') return formSolver();
  const el = field(name);
  return el.closest('[hidden]') ? null : el.value;
}

function readSettings(): Settings {
  return parseSettings(formValue);
}

/** Configuration B: the form's settings with B's solver, schedule and NFE. */
function readB(get: (name: string) => string | null = (name) => field(`b-${name}`).value): Settings {
  try {
    return parseSettings((name) => ((B_FIELDS as readonly string[]).includes(name) ? get(name) : formValue(name)));
  } catch (e) {
    throw new Error(`configuration B: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The URL: the settings that differ from the defaults, and B's while comparing. */
function writeUrl(s: Settings): void {
  const bCustom = comparing && field('b-schedule').value === 'custom';
  const params = toParams({ ...s, sigmas: s.schedule === 'custom' || bCustom ? s.sigmas : undefined });
  if (comparing) for (const name of B_FIELDS) params.set(`b-${name}`, field(`b-${name}`).value);
  const page = new URLSearchParams(location.search);
  for (const name of ['backend', 'workers', ...(s.model.startsWith('url:') ? ['card'] : [])]) {
    const value = page.get(name);
    if (value) params.set(name, value);
  }
  if (orbit.axes !== 'fit') params.set('axes', orbit.axes);
  history.replaceState(null, '', `?${params}`);
}

/** CPU workers a sampling job is split over, from the URL (`workers=N`; undefined: the
 * engine's default, the cores up to 4). */
let workers: number | undefined;

function parseWorkers(value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new Error(`workers must be a whole number from 1 to ${MAX_WORKERS}, got "${value}"`);
  return n;
}

function sampleOptions(s: Settings): SampleOptions {
  return { computedGits: computed.get(s.model) };
}

/** A new model keeps the solver, schedule (where the model has it), NFE and seed. */
function switchModel(id: string): void {
  const model = modelById(id);
  const s = defaults(model);
  s.solver = formSolver();
  s.noise = formValue('noise') ?? '';
  s.seed = Number(field('seed').value) || 0;
  s.nfe = Number(field('nfe').value) || s.nfe;
  const schedule = field('schedule').value;
  const missing = schedule === 'gits-here' ? !computed.has(id) : schedule.startsWith('gits') && !shippedGits(model, schedule);
  s.schedule = missing ? 'polynomial:7' : schedule;
  s.sigmas = field('sigmas').value ? sigmaList(field('sigmas').value) : undefined;
  applySettings(s);
}

/** Draws the shown result at step `k`. */
function drawStep(k: number): void {
  if (!shown) return;
  const { r } = shown;
  $<HTMLElement>('#step-label').textContent = `${k} / ${r.stepSigmas.length - 1}, sigma ${r.stepSigmas[k].toPrecision(3)}`;
  drawShown(canvas, shown, k, field<HTMLInputElement>('denoised').checked);
  if (projection) orbit.show(projection, k + 1, evalsAt(r, k));
}

/** Projects the chosen sample's trajectory into its 3-D frame and shows it at the step shown. */
async function showOrbit(engine: Engine): Promise<void> {
  if (!shown) return;
  const input = $<HTMLInputElement>('#orbit-sample');
  const n = Math.min(Math.max(0, Math.trunc(Number(input.value)) || 0), shown.r.batch - 1);
  input.value = String(n);
  input.max = String(shown.r.batch - 1);
  projection = await engine.project(shown.r, n);
  window.projectionLast = projection;
  const caption = $<HTMLElement>('#orbit-caption');
  caption.dataset.sample = String(n);
  caption.textContent = `(PC 1 and PC 2 keep ${(100 * projection.captured).toFixed(2)} % of its bend off the line x_T -> x_0)`;
  drawStep(Number(stepInput.value));
}

let generating: Promise<void> | undefined;
let again = false;

/** Samples with the form's settings; asked again while sampling, it samples once more after
 * (so a run of edits costs one sample each end, not a queue). */
function generate(engine: Engine): Promise<void> {
  if (generating) {
    again = true;
    return generating;
  }
  generating = (async () => {
    do {
      again = false;
      await generateOnce(engine);
    } while (again);
  })().finally(() => {
    generating = undefined;
  });
  return generating;
}

async function generateOnce(engine: Engine): Promise<void> {
  try {
    const s = readSettings();
    const model = modelById(s.model);
    writeUrl(s);
    setState('sampling', model.kind === 'image' ? 'Loading the model and sampling…' : 'Sampling…');
    const bar = $<HTMLProgressElement>('#progress');
    const queued = document.body.dataset.backend === 'webgpu' ? ' queued on the GPU' : '';
    const onProgress = (done: number, total: number) => {
      if (done === 1) markOnce('gits:first-evaluation');
      bar.max = total;
      bar.value = done;
      result.textContent = `Sampling: ${done} / ${total} evaluations${queued}…`;
    };
    // Digits fill the grid as rows of a split job are done (the whole batch at once otherwise).
    const fill = model.kind === 'image' ? fillingGrid(canvas, s.batch, layoutOf(model)) : undefined;
    let rowsShown = 0;
    document.body.dataset.rowsShown = '0';
    const onRows = (rows: SampledRows) => {
      if (rowsShown === 0) markOnce('gits:first-rows');
      rowsShown += rows.end - rows.start;
      document.body.dataset.rowsShown = String(rowsShown);
      fill?.(rows);
    };
    const t0 = performance.now();
    shown = await sampleWith(engine, s, { ...sampleOptions(s), onProgress, onRows });
    projection = undefined;
    const ms = performance.now() - t0;
    const { r } = shown;
    window.last = r;
    stepInput.max = String(r.stepSigmas.length - 1);
    stepInput.value = stepInput.max;
    drawStep(r.stepSigmas.length - 1);
    markOnce('gits:sample-drawn');
    const strip = $<HTMLCanvasElement>('#strip');
    strip.hidden = model.kind !== 'image';
    if (model.kind === 'image') drawStrip(strip, r, layoutOf(model));
    const b = boomerang(r);
    window.boomerangLast = b;
    drawPanels($<HTMLCanvasElement>('#boomerang'), [
      { title: 'deviation from the line x_T -> x_0 (mean ± std)', sigmas: b.sigmas, band: b.deviation, color: '#fb923c' },
      { title: 'distance to x_0', sigmas: b.sigmas, band: b.toEnd, color: '#60a5fa' },
    ]);
    renderPlan($<HTMLTableElement>('#plan'), r.plan);
    await showOrbit(engine);
    const what = model.kind === 'image' && !model.onnx ? 'digits' : 'samples';
    const guided = model.classes ? `, guidance ${s.guidance}` : '';
    setState('ready', `${r.batch} ${what} with ${s.solver} on ${s.schedule}, NFE ${r.nfe}${guided}, in ${ms.toFixed(0)} ms`);
    void lab?.shown(s, r);
    void gitsMap?.shown(shown);
    if (comparing) await runCompare(comparePage(engine)); // the comparison follows A
  } catch (e) {
    setState('error', `Error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The compare panel's view of the page. */
function comparePage(engine: Engine): ComparePage {
  return {
    engine,
    configs: () => [readSettings(), readB()],
    begin: (a) => {
      comparing = true;
      writeUrl(a);
    },
    sampleOptions,
    sweepSchedules: (s) => {
      const model = modelById(s.model);
      // An edited schedule has one step count: it has no curve over NFE. Schedules ending at 0
      // end elsewhere than the teacher.
      return SCHEDULES.filter(([v]) => v !== 'custom' && !ENDS_AT_ZERO.has(v) && (v === 'gits-here' ? computed.has(model.id) : !v.startsWith('gits') || shippedGits(model, v)));
    },
    show: (measured, curves) => {
      if (measured) window.compareLast = measured;
      if (curves) window.sweepLast = curves;
    },
  };
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
  fillSolvers(field('solver'));
  fill(field('schedule'), SCHEDULES);
  fillSolvers(field('b-solver'));
  fill(field('noise'), NOISE_SOURCES);
  field('solver').addEventListener('change', () => applySolver(field('solver').value));
  fill(field('b-schedule'), SCHEDULES);
  const params = new URLSearchParams(location.search);
  let problem: string | undefined;
  const engine = Engine.shared(params.get('backend') !== 'cpu');
  try {
    const model = params.get('model');
    if (model?.startsWith('url:')) {
      setState('loading', `Opening ${model.slice(4)}…`);
      const bar = $<HTMLProgressElement>('#open-progress');
      bar.hidden = false;
      await openHosted(engine, model.slice(4), params.get('card'), (done, total) => {
        if (total) bar.max = total;
        bar.value = done;
        result.textContent = `Downloading ${model.slice(4)}: ${(done / 1e6).toFixed(1)}${total ? ` / ${(total / 1e6).toFixed(1)}` : ''} MB…`;
      }).finally(() => (bar.hidden = true));
    }
    const backend = params.get('backend');
    if (backend !== null && backend !== 'cpu' && backend !== 'webgpu') throw new Error(`backend must be cpu or webgpu, got "${backend}"`);
    const axes = params.get('axes') ?? 'fit';
    if (!(AXES_SCALINGS as string[]).includes(axes)) throw new Error(`axes must be ${AXES_SCALINGS.join(' or ')}, got "${axes}"`);
    orbit.axes = axes as AxesScaling;
    $<HTMLSelectElement>('#orbit-axes').value = axes;
    workers = parseWorkers(params.get('workers'));
    const s = parseSettings((name) => params.get(name));
    applySettings(s);
    field('b-solver').value = solverBase(s.solver).base;
    field('b-schedule').value = modelById(s.model).gits ? 'gits' : 'logsnr';
    field('b-nfe').value = String(s.nfe);
    if (B_FIELDS.some((name) => params.has(`b-${name}`))) {
      const b = readB((name) => params.get(`b-${name}`) ?? field(`b-${name}`).value);
      for (const name of B_FIELDS) field(`b-${name}`).value = String(b[name]);
      comparing = true;
    }
  } catch (e) {
    problem = `Error in the URL: ${e instanceof Error ? e.message : String(e)}`;
    applySettings(defaults());
  }
  if (workers !== undefined) engine.workers = workers;
  if (!modelById(field('model').value).onnx) engine.prefetch(modelById(field('model').value).url); // the weights download beside the wasm module's
  window.engine = engine;
  lab = new Lab({
    engine,
    use: (sigmas) => {
      field('sigmas').value = sigmas.join(',');
      field('schedule').value = 'custom';
      void generate(engine);
    },
    sampleOptions,
    hasComputedGits: (id) => computed.has(id),
  });
  window.lab = lab;
  gitsMap = new GitsMap(engine);
  if (field('schedule').value === 'custom' || (comparing && field('b-schedule').value === 'custom')) lab.open();
  // A lost GPU device: say so, and sample again on the CPU worker that replaced it.
  engine.onBackendChange = (why) =>
    void engine.backend.then(async (info) => {
      status.textContent = `Backend: ${info.description} (${why})`;
      document.body.dataset.backend = info.backend;
      await generate(engine);
    }, (e: unknown) => setState('error', `Error: ${why}, and the CPU backend failed too: ${e instanceof Error ? e.message : String(e)}`));
  field('model').addEventListener('change', () => switchModel(field('model').value));
  wireOwnModel({
    engine,
    opened: async (model) => {
      field('model').value = model.id;
      switchModel(model.id);
      await generate(engine);
    },
    gits: async (name, text) => {
      const model = modelById(field('model').value);
      await engine.gitsMap(model.url, text, name, 1.15); // checks that it was searched for this model
      computed.set(model.id, text);
      window.gitsFile = text;
      offerComputed(field('schedule'), 'gits-here');
      field('schedule').value = 'gits-here';
      await generate(engine);
    },
    failed: (message) => setState('error', `Error: ${message}`),
  });
  const slider = field<HTMLInputElement>('nfe-slider');
  slider.addEventListener('input', () => { field('nfe').value = slider.value; });
  field('nfe').addEventListener('input', () => { slider.value = field('nfe').value; });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void generate(engine);
  });
  wirePlayer();
  $<HTMLButtonElement>('#compare-run').addEventListener('click', () => void runCompare(comparePage(engine)));
  $<HTMLButtonElement>('#sweep-run').addEventListener('click', () => void runSweep(comparePage(engine)));
  $<HTMLInputElement>('#orbit-sample').addEventListener('change', () => void showOrbit(engine));
  $<HTMLSelectElement>('#orbit-axes').addEventListener('change', () => {
    orbit.axes = $<HTMLSelectElement>('#orbit-axes').value as AxesScaling;
    const url = new URLSearchParams(location.search);
    if (orbit.axes === 'fit') url.delete('axes');
    else url.set('axes', orbit.axes);
    history.replaceState(null, '', `?${url}`);
  });
  window.orbit = orbit;
  wireGitsPanel('gits', (onProgress) => {
    const model = modelById(field('model').value);
    const options = readGitsOptions((name) => field(name), model.kind === 'image', field<HTMLSelectElement>('solver').value);
    return engine.gits(model.url, options, onProgress);
  }, async (file) => {
    const model = modelById(field('model').value);
    computed.set(model.id, file);
    window.gitsFile = file;
    offerComputed(field('schedule'), 'gits-here');
    await generate(engine);
  });
  const info = await engine.backend;
  markOnce('gits:backend-ready'); // user timings: bench/browser-bench.mjs reads them
  status.textContent = `Backend: ${info.description}${info.backend === 'webgpu' ? await adapterInfo() : ''}`;
  document.body.dataset.backend = info.backend;
  if (problem) setState('error', problem);
  else await generate(engine);
}

main().catch((e) => {
  status.textContent = 'Backend: not started';
  setState('error', `Error: ${e instanceof Error ? e.message : String(e)}`);
});
