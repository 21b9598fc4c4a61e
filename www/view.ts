// The sample view shared by the playground and the widget: a result over its data (2-D) or as
// a digit grid, at any step of the trajectory; and the sampling request behind it.
import { assetUrl } from './base.js';
import { boundedText, parseJson } from './bounded.js';
import { memo } from './memo.js';
import type { Engine } from './engine.js';
import { densityGrid, type Gmm } from './density.js';
import { drawDensity, drawTrajectories, type View } from './plot.js';
import { drawDigits, type ImageLayout } from './digits.js';
import { modelById, type CatalogueEntry } from './models.js';
import type { SampledRows, SampleResult } from './protocol.js';
import { shippedGits, type Settings } from './settings.js';

const VIEW: View = { lo: -2.5, hi: 2.5 };
const GRID = 200;

/** A shipped file, under the files' base (see base.ts). */
export async function fetchShipped(path: string): Promise<Response> {
  const response = await fetch(assetUrl(path));
  if (!response.ok) throw new Error(`cannot load ${path}: HTTP ${response.status}`);
  return response;
}

/** Kernel width of the density drawn from a toy set's 512 points (the view spans 5 units). */
const POINTS_BANDWIDTH = 0.06;

/** What is drawn under 2-D views: the mixture's density, or a smoothed density of the data. */
export type Underlay = { density: Float32Array } | null;
const underlays = new Map<string, Promise<Underlay>>();

/** How an image model's samples are drawn: its shape and value range (digits by default). */
export function layoutOf(model: CatalogueEntry): ImageLayout {
  return { shape: model.shape ?? [1, 28, 28], range: model.range ?? [-1, 1] };
}

function underlay(model: CatalogueEntry): Promise<Underlay> {
  if (model.kind === 'image' || model.kind === 'points') return Promise.resolve(null);
  const path = model.kind === 'gmm' ? model.url : model.data!;
  return memo(underlays, model.id, () =>
    fetchShipped(path)
      .then((r) => boundedText(r, path))
      .then((text) => {
        const json = parseJson(text, path);
        if (model.kind === 'gmm') return { density: densityGrid(checkedGmm(json, path), GRID, VIEW.lo, VIEW.hi) };
        const points = pairs((json as { points?: unknown } | null)?.points, `${path}: "points"`);
        const smoothed: Gmm = { kind: 'gmm', weights: points.map(() => 1), means: points, variances: points.map(() => POINTS_BANDWIDTH ** 2) };
        return { density: densityGrid(smoothed, GRID, VIEW.lo, VIEW.hi) };
      }),
  );
}

/** Most points or components drawn under a 2-D view (the sampler's own limit). */
const MAX_POINTS = 10_000;

/** `v` as a list of [x, y] pairs of finite numbers, else an error naming `what`. */
function pairs(v: unknown, what: string): number[][] {
  if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite))) {
    throw new Error(`${what} must be a list of [x, y] pairs of finite numbers`);
  }
  if (v.length > MAX_POINTS) throw new Error(`${what} has ${v.length} entries, more than the limit of ${MAX_POINTS}`);
  return v as number[][];
}

/** A served 2-D mixture checked before it is drawn (the sampler checks it again, fully). */
function checkedGmm(json: unknown, path: string): Gmm {
  const g = (json ?? {}) as Partial<Record<keyof Gmm, unknown>>;
  const positive = (v: unknown, what: string) => {
    if (!Array.isArray(v) || !v.every((x) => Number.isFinite(x) && x > 0)) throw new Error(`${path}: "${what}" must be a list of finite numbers > 0`);
    return v as number[];
  };
  const means = pairs(g.means, `${path}: "means"`);
  const [weights, variances] = [positive(g.weights, 'weights'), positive(g.variances, 'variances')];
  if (weights.length !== means.length || variances.length !== means.length) throw new Error(`${path}: weights, means and variances differ in length`);
  return { kind: 'gmm', weights, means, variances };
}

export interface Shown {
  r: SampleResult;
  model: CatalogueEntry;
  underlay: Underlay;
  /** The GITS file sampled on (GITS schedules only) and its name for messages. */
  gits?: { text: string; name: string };
}

export interface SampleOptions {
  /** The GITS file computed in the page (schedule 'gits-here'). */
  computedGits?: string;
  /** Analytic first step, or not; undefined: as the GITS file chose for the solver (none for
   * other schedules). */
  afs?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Rows of the batch as they are done (a CPU job split over workers fills in). */
  onRows?: (rows: SampledRows) => void;
}

/** The GITS file a GITS schedule of `s` samples on (the model's shipped one, or the one computed
 * in the page) and its name for messages; undefined text for other schedules, or none computed. */
async function gitsFile(s: Settings, o: SampleOptions): Promise<{ text?: string; name: string }> {
  const shipped = shippedGits(modelById(s.model), s.schedule);
  if (shipped) return { text: await boundedText(await fetchShipped(shipped), shipped), name: shipped };
  return { text: s.schedule === 'gits-here' ? o.computedGits : undefined, name: 'the GITS schedule computed here' };
}

/** Samples with `s` ('gits' loads the model's shipped GITS file). */
export async function sampleWith(engine: Engine, s: Settings, o: SampleOptions = {}): Promise<Shown> {
  const model = modelById(s.model);
  const { text: gits, name: gitsName } = await gitsFile(s, o);
  const noise = s.noise === 'fresh' || s.noise === 'brownian' ? (s.noise as 'fresh' | 'brownian') : undefined;
  const plan = { solver: s.solver, schedule: s.schedule.startsWith('gits') ? 'gits' : s.schedule, nfe: s.nfe, sigmas: s.sigmas, gits, gitsName, afs: o.afs, noise };
  const sampled = engine.sample({ model: model.url, plan, seed: s.seed, batch: s.batch, label: s.label, guidance: s.guidance }, o.onProgress, o.onRows);
  sampled.catch(() => {}); // its failure is thrown below, once the underlay is in
  // A bad underlay fails the sample only once the sampler is done: no progress may follow the error.
  const u = await underlay(model).catch(async (e: unknown) => {
    await sampled.catch(() => {});
    throw e;
  });
  const r = await sampled;
  return { r, model, underlay: u, gits: gits === undefined ? undefined : { text: gits, name: gitsName } };
}

/** Draws `shown` at step `k`: x_k (2-D: with the paths and D(x) so far; digits: or D(x_k)). */
export function drawShown(canvas: HTMLCanvasElement, { r, model, underlay: u }: Shown, k: number, denoised: boolean): void {
  const last = r.stepSigmas.length - 1;
  if (model.kind === 'image') {
    const per = r.batch * r.dim;
    // D(x) of the evaluation at this step's sigma (none at the final one: the sample itself).
    const e = r.evalSigmas.findIndex((s) => s <= r.stepSigmas[k]);
    const showD = denoised && k < last && e >= 0;
    drawDigits(canvas, showD ? r.evals.subarray(e * per, (e + 1) * per) : r.steps.subarray(k * per, (k + 1) * per), r.batch, layoutOf(model));
    return;
  }
  canvas.width = canvas.height = 640;
  canvas.style.aspectRatio = '1';
  if (u) drawDensity(canvas, u.density, GRID);
  drawTrajectories(canvas, VIEW, r, denoised, k);
}
