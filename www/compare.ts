// Compare mode: configurations run on the same noise (same model, seed, batch, classes) and
// measured against a teacher, a high-accuracy solve of the same ODE from the same noise: iPNDM
// on the polynomial schedule with 60 NFE, the teacher of `gits-sampler eval`. A stochastic
// sample is not a solve of that ODE, so L2 to the teacher means nothing for it: where one is
// compared, both are measured by their kernel MMD to the exact distribution (exact models), or
// not at all (networks; their FD is in bench/RESULTS.md).
import type { Engine } from './engine.js';
import { sampleWith, type SampleOptions, type Shown } from './view.js';
import type { SampleResult } from './protocol.js';
import { solverBase, type Settings } from './settings.js';
import { modelById } from './models.js';
import { memo } from './memo.js';

const solves = new Map<string, Promise<Float32Array>>();

/** The samples of the teacher ('teacher': iPNDM, 60 NFE) or of the schedule lab's reference
 * ('reference': 200 NFE for exact models) for the noise of `s`, kept per model, seed, batch and
 * classes. Their plans are Rust's (`SamplingSpec::teacher`); the worker compiles them. */
export function solve(engine: Engine, s: Settings, schedule: 'teacher' | 'reference'): Promise<Float32Array> {
  const key = JSON.stringify([schedule, s.model, s.seed, s.batch, s.label, s.guidance]);
  return memo(solves, key, () => sampleWith(engine, { ...s, schedule }).then((shown) => shown.r.samples));
}

export const teacher = (engine: Engine, s: Settings) => solve(engine, s, 'teacher');

/** What a comparison measured: L2 to the teacher, MMD to the exact distribution, or nothing. */
export type Metric = 'l2' | 'mmd' | 'none';

export interface Measured {
  shown: Shown;
  metric: Metric;
  /** The distance by `metric` (null for 'none'). */
  value: number | null;
  /** L2 to the teacher, where it applies (kept for the sweep's and tests' sake). */
  l2: number;
}

/** How configurations are measured: by L2 to the teacher unless one is stochastic; then by the
 * MMD to the exact distribution on exact models, and not at all on networks. */
export function metricFor(configs: Settings[]): Metric {
  if (!configs.some((s) => solverBase(s.solver).stochastic)) return 'l2';
  const kind = modelById(configs[0].model).kind;
  return kind === 'gmm' || kind === 'kde' ? 'mmd' : 'none';
}

/** The distance of `r`'s samples: L2 to the teacher's samples `t`, or without a teacher (a
 * stochastic comparison on an exact model) the MMD to the exact distribution at the last sigma. */
function distance(engine: Engine, r: SampleResult, url: string, t: Float32Array | undefined): Promise<number> {
  return t ? engine.meanL2(r.samples, t, r.dim) : engine.mmdToExact(url, r.samples, r.stepSigmas[r.stepSigmas.length - 1]);
}

/** Runs each configuration (they share the noise of the first: the same per-sample seeds, so
 * with Brownian noise the same paths) and measures them (see [`metricFor`]). */
export async function compare(engine: Engine, configs: Settings[], o: (s: Settings) => SampleOptions): Promise<Measured[]> {
  const metric = metricFor(configs);
  const t = metric === 'l2' ? await teacher(engine, configs[0]) : undefined;
  const out: Measured[] = [];
  for (const s of configs) {
    const shown = await sampleWith(engine, s, o(s));
    const value = metric === 'none' ? null : await distance(engine, shown.r, shown.model.url, t);
    out.push({ shown, metric, value, l2: metric === 'l2' ? (value as number) : NaN });
  }
  return out;
}

/** Whether `e` says a schedule has no plan at that NFE: the solver's NFE rule (Heun spends 2
 * per step), or a GITS file without that step count. */
export function unreachable(e: unknown): boolean {
  return e instanceof Error && /is not reachable|needs a \d+-step/.test(e.message);
}

export interface Curve {
  schedule: string;
  nfes: number[];
  /** The distance at each NFE: L2 to the teacher, or for a stochastic solver the MMD to the
   * exact distribution (see [`metricFor`]). */
  l2: number[];
}

/** L2 to the teacher (a stochastic solver: MMD to the exact distribution) against NFE for each
 * schedule with `s`'s solver. An NFE the solver cannot reach on a schedule (Heun spends 2 per
 * step) is left out of that curve. */
export async function sweep(engine: Engine, s: Settings, schedules: string[], nfes: number[], o: (s: Settings) => SampleOptions, onProgress: (done: number, total: number) => void): Promise<Curve[]> {
  const metric = metricFor([s]);
  if (metric === 'none') throw new Error(`${s.solver} is stochastic: L2 to the teacher means nothing for its samples, and this model has no exact distribution to measure them against (the digits' FD is in bench/RESULTS.md)`);
  const t = metric === 'l2' ? await teacher(engine, s) : undefined;
  const total = schedules.length * nfes.length;
  let done = 0;
  const curves: Curve[] = [];
  for (const schedule of schedules) {
    const curve: Curve = { schedule, nfes: [], l2: [] };
    for (const nfe of nfes) {
      try {
        const config = { ...s, schedule, nfe };
        const { r } = await sampleWith(engine, config, o(config));
        curve.nfes.push(nfe);
        curve.l2.push(await distance(engine, r, modelById(s.model).url, t));
      } catch (e) {
        if (!unreachable(e)) throw e;
      }
      onProgress(++done, total);
    }
    curves.push(curve);
  }
  return curves;
}
