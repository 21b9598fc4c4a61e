// Compare mode: configurations run on the same noise (same model, seed, batch, classes) and
// measured against a teacher, a high-accuracy solve of the same ODE from the same noise: iPNDM
// on the polynomial schedule with 60 NFE, the teacher of `gits-sampler eval`.
import type { Engine } from './engine.js';
import { sampleWith, type SampleOptions, type Shown } from './view.js';
import type { Settings } from './settings.js';
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

export interface Measured {
  shown: Shown;
  l2: number;
}

/** Runs each configuration (they share the noise of the first) and its L2 to the teacher. */
export async function compare(engine: Engine, configs: Settings[], o: (s: Settings) => SampleOptions): Promise<Measured[]> {
  const t = await teacher(engine, configs[0]);
  const out: Measured[] = [];
  for (const s of configs) {
    const shown = await sampleWith(engine, s, o(s));
    out.push({ shown, l2: await engine.meanL2(shown.r.samples, t, shown.r.dim) });
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
  l2: number[];
}

/** L2 to the teacher against NFE for each schedule with `s`'s solver. An NFE the solver cannot
 * reach on a schedule (Heun spends 2 per step) is left out of that curve. */
export async function sweep(engine: Engine, s: Settings, schedules: string[], nfes: number[], o: (s: Settings) => SampleOptions, onProgress: (done: number, total: number) => void): Promise<Curve[]> {
  const t = await teacher(engine, s);
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
        curve.l2.push(await engine.meanL2(r.samples, t, r.dim));
      } catch (e) {
        if (!unreachable(e)) throw e;
      }
      onProgress(++done, total);
    }
    curves.push(curve);
  }
  return curves;
}
