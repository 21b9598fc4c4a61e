// The compare panel: A and B on the same noise against the teacher, and the error-vs-NFE sweep
// of every schedule; what it needs of the page comes in a `ComparePage`.
import type { Engine } from './engine.js';
import { compare, metricFor, sweep, type Curve, type Measured } from './compare.js';
import { drawShown, type SampleOptions } from './view.js';
import { drawLines } from './chart.js';
import type { Settings } from './settings.js';

const SWEEP_NFES = [3, 4, 5, 6, 7, 8, 9, 10];
const COLORS = ['#fb923c', '#60a5fa', '#a3e635', '#f472b6', '#facc15'];
const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;

export interface ComparePage {
  engine: Engine;
  /** A (the form) and B (the compare panel's fields). */
  configs(): [Settings, Settings];
  /** The comparison becomes part of the page's state and URL. */
  begin(a: Settings): void;
  sampleOptions(s: Settings): SampleOptions;
  /** [value, label] of the schedules the sweep runs for `s`'s model. */
  sweepSchedules(s: Settings): [string, string][];
  /** Keeps the results for tests and the console. */
  show(measured?: Measured[], curves?: Curve[]): void;
}

/** Runs `work` with the compare panel's buttons disabled and its state in body[data-compare]. */
async function comparePanel(work: (bar: HTMLProgressElement, note: HTMLElement) => Promise<string>): Promise<void> {
  const bar = $<HTMLProgressElement>('#compare-progress');
  const note = $<HTMLElement>('#compare-status');
  const buttons = [$<HTMLButtonElement>('#compare-run'), $<HTMLButtonElement>('#sweep-run')];
  buttons.forEach((b) => { b.disabled = true; });
  document.body.dataset.compare = 'running';
  bar.removeAttribute('value');
  try {
    note.textContent = await work(bar, note);
    bar.value = bar.max;
    document.body.dataset.compare = 'done';
  } catch (e) {
    note.textContent = `Failed: ${e instanceof Error ? e.message : String(e)}`;
    bar.value = 0;
    document.body.dataset.compare = 'error';
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/** A and B on the same noise, each with its L2 distance to the teacher. */
export function runCompare(page: ComparePage): Promise<void> {
  return comparePanel(async (_bar, note) => {
    const configs = page.configs();
    page.begin(configs[0]);
    note.textContent = 'Sampling the teacher, A and B…';
    const measured = await compare(page.engine, configs, page.sampleOptions);
    page.show(measured);
    $<HTMLElement>('#compare-view').hidden = false;
    const metric = measured[0].metric;
    const named = { l2: 'L2 to the teacher', mmd: 'MMD to the exact distribution', none: '' }[metric];
    measured.forEach((m, i) => {
      const id = i ? 'b' : 'a';
      const s = configs[i];
      drawShown($<HTMLCanvasElement>(`#compare-${id}`), m.shown, m.shown.r.stepSigmas.length - 1, false);
      const value = m.value === null ? '' : `; ${named} ${m.value.toPrecision(3)}`;
      $<HTMLElement>(`#compare-${id}-caption`).textContent = `${id.toUpperCase()}: ${s.solver} on ${s.schedule}, NFE ${m.shown.r.nfe}${value}`;
    });
    const [a, b] = measured.map((m) => m.value ?? NaN);
    const same = `Same noise, ${configs[0].batch} samples (the same per-sample seeds: B reuses A's noise path)`;
    if (metric === 'none') {
      return `${same}. A stochastic sample is no solve of the teacher's ODE, so L2 to the teacher means nothing for it, and this model has no exact distribution to measure against; bench/RESULTS.md has the digits' FD.`;
    }
    const why = metric === 'mmd' ? ' A stochastic solver is compared, so both are measured by their kernel MMD to the exact distribution at the last sigma (L2 to an ODE teacher means nothing for a stochastic sample).' : '';
    return `${same}: B's ${metric === 'mmd' ? 'MMD' : 'error'} is ${(b / a).toPrecision(3)} x A's.${why}`;
  });
}

/** Error against NFE for every schedule of the form's solver. */
export function runSweep(page: ComparePage): Promise<void> {
  return comparePanel(async (bar, note) => {
    const s = page.configs()[0];
    const schedules = page.sweepSchedules(s);
    const curves = await sweep(page.engine, s, schedules.map(([v]) => v), SWEEP_NFES, page.sampleOptions, (done, total) => {
      bar.max = total;
      bar.value = done;
      note.textContent = `${done} / ${total} runs`;
    });
    page.show(undefined, curves);
    $<HTMLElement>('#sweep-view').hidden = false;
    const series = curves.map((c, k) => ({ label: schedules[k][1].replace(' for this model', ''), color: COLORS[k % COLORS.length], xs: c.nfes, ys: c.l2 }));
    const mmd = metricFor([s]) === 'mmd';
    drawLines($<HTMLCanvasElement>('#sweep'), series, 'NFE', `${s.solver}: ${mmd ? 'kernel MMD to the exact distribution' : 'mean L2 distance to the teacher'} (log)`);
    $<HTMLElement>('#sweep-caption').textContent = mmd
      ? `${s.solver} (stochastic) on every schedule, ${s.batch} samples of seed ${s.seed}; each measured by its kernel MMD to the exact distribution at its last sigma (L2 to an ODE teacher means nothing for a stochastic sample).`
      : `${s.solver} on every schedule, ${s.batch} samples of seed ${s.seed}; the teacher is iPNDM with 60 NFE from the same noise.`;
    return `Done: ${curves.reduce((n, c) => n + c.nfes.length, 0)} runs.`;
  });
}

