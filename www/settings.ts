// What a sample is made of (model, solver, schedule, NFE, seed, batch, class, guidance), its
// defaults, and its round trip through URL parameters or widget attributes, validated.
import { MODELS, modelById, type CatalogueEntry } from './models.js';

export interface Settings {
  model: string;
  solver: string;
  /** polynomial:7, logsnr, uniform, gits or gits-paper (the model's shipped files), gits-here
   * (computed) or custom (`sigmas`). */
  schedule: string;
  /** The schedule lab's sigma list (schedule 'custom', or B's); its plan's NFE follows from it. */
  sigmas?: number[];
  nfe: number;
  seed: number;
  batch: number;
  /** A class, 'cycle' or 'none' (models with classes). */
  label: string;
  guidance: number;
  /** Step noise of stochastic solvers: '' (the solver's default), 'fresh' or 'brownian'. */
  noise: string;
}

/** ODE solvers: the same noise gives the same sample at any step count, up to their error. */
export const ODE_SOLVERS: [string, string][] = [
  ['euler', 'Euler / DDIM'],
  ['heun', 'Heun (EDM)'],
  ['dpm2', 'DPM-Solver-2'],
  ['deis:3', 'DEIS-tAB3'],
  ['ab_exact:4', 'Adams–Bashforth, exact weights (LMS)'],
  ['ipndm', 'iPNDM'],
  ['ipndm_v', 'iPNDM_v'],
  ['dpmpp:2', 'DPM-Solver++(2M)'],
  ['dpmpp:3', 'DPM-Solver++(3M)'],
  ['unipc:3', 'UniPC-3 (bh2)'],
  ['unipc_bh1:2', 'UniPC-2 (bh1)'],
];

/** Stochastic solvers (k-diffusion's and EDM's): each step also adds noise. Their parameters
 * follow the name, `name:p1:p2...` (see STOCHASTIC_PARAMS). */
export const STOCHASTIC_SOLVERS: [string, string][] = [
  ['euler_ancestral', 'Euler ancestral'],
  ['dpm_2_ancestral', 'DPM-Solver-2 ancestral'],
  ['dpmpp_2s_ancestral', 'DPM-Solver++(2S) ancestral'],
  ['dpmpp_sde', 'DPM-Solver++ SDE'],
  ['dpmpp_2m_sde', 'DPM-Solver++(2M) SDE'],
  ['dpmpp_2m_sde_heun', 'DPM-Solver++(2M) SDE, heun'],
  ['dpmpp_3m_sde', 'DPM-Solver++(3M) SDE'],
  ['ddim_eta', 'DDIM with eta'],
  ['euler_churn', "Euler with EDM's churn"],
  ['heun_churn', "Heun with EDM's churn"],
];

export const SOLVERS: [string, string][] = [...ODE_SOLVERS, ...STOCHASTIC_SOLVERS];

/** A stochastic solver's parameters, in the order its name takes them: [name, default, min, max]. */
export function stochasticParams(base: string): [string, number, number, number][] {
  if (base === 'ddim_eta') return [['eta', 1, 0, 1]];
  if (base.endsWith('_churn')) return [['churn', 40, 0, 1000], ['tmin', 0.05, 0, 1e5], ['tmax', 50, 0, 1e5], ['s_noise', 1.003, 0, 2]];
  return [['eta', 1, 0, 2], ['s_noise', 1, 0, 2]];
}

/** The solver's name without its parameters, and whether it is stochastic. */
export function solverBase(solver: string): { base: string; stochastic: boolean } {
  const base = solver.split(':')[0];
  return STOCHASTIC_SOLVERS.some(([v]) => v === base) ? { base, stochastic: true } : { base: solver, stochastic: false };
}

/** Checks a solver as the URL or a widget names it: an ODE solver of the menu, or a stochastic
 * one with up to its number of parameters (each a decimal in range). */
function checkSolver(solver: string): void {
  const { base, stochastic } = solverBase(solver);
  if (!stochastic) {
    if (!ODE_SOLVERS.some(([v]) => v === solver)) throw new Error(`unknown solver "${solver}" (one of: ${SOLVERS.map(([v]) => v).join(', ')})`);
    return;
  }
  const given = solver.split(':').slice(1);
  const params = stochasticParams(base);
  if (given.length > params.length) throw new Error(`${base} takes ${params.map((p) => p[0]).join(':')}, got "${solver}"`);
  given.forEach((text, i) => decimal(`${base} ${params[i][0]}`, text, params[i][2], params[i][3]));
}

/** Where stochastic solvers' step noise comes from ('': the solver's default). */
export const NOISE_SOURCES: [string, string][] = [
  ['', "the solver's default (Brownian for the SDE solvers, as k-diffusion)"],
  ['fresh', 'fresh draws per step'],
  ['brownian', 'Brownian path (the same path at any step count)'],
];

export const SCHEDULES: [string, string][] = [
  ['polynomial:7', 'polynomial (rho 7)'],
  ['logsnr', 'logSNR'],
  ['uniform', 'time-uniform'],
  ['kl_optimal', 'KL-optimal (ComfyUI, AYS)'],
  ['flow_shift:3', 'flow shift 3 (SD3)'],
  ['beta', 'beta 0.6, 0.6 (ComfyUI)'],
  ['simple', 'simple (ComfyUI)'],
  ['sgm_uniform', 'sgm_uniform (ComfyUI)'],
  ['normal', 'normal (ComfyUI)'],
  ['ddim_uniform', 'ddim_uniform (ComfyUI)'],
  ['linear_quadratic', 'linear-quadratic (ComfyUI, Mochi)'],
  ['ays:sd1', 'Align Your Steps, SD1 table (ComfyUI)'],
  ['ays:sdxl', 'Align Your Steps, SDXL table (ComfyUI)'],
  ['gits', 'GITS (shipped for this model)'],
  ['gits-paper', "GITS, the paper's cost (shipped)"],
  ['gits-here', 'GITS (computed here)'],
  ['custom', 'edited in the schedule lab'],
];

/** ComfyUI's schedules over a model's training sigmas: their last step goes to sigma = 0, not
 * to sigma_min, so L2 to a teacher (which ends at sigma_min) does not compare them. */
export const ENDS_AT_ZERO = new Set(['beta', 'simple', 'sgm_uniform', 'normal', 'ddim_uniform', 'linear_quadratic', 'ays:sd1', 'ays:sdxl']);

/** Most sigmas in an edited list (200 steps, the NFE field's limit). */
export const MAX_SIGMAS = 201;

/** The model's shipped GITS file for schedule 'gits' or 'gits-paper' (undefined: none). */
export function shippedGits(model: CatalogueEntry, schedule: string): string | undefined {
  return schedule === 'gits' ? model.gits : schedule === 'gits-paper' ? model.gitsPaper : undefined;
}

export const FIELDS = ['model', 'solver', 'schedule', 'nfe', 'seed', 'batch', 'label', 'guidance', 'noise'] as const;

export function defaults(model: CatalogueEntry = MODELS[0]): Settings {
  const image = model.kind === 'image';
  return { model: model.id, solver: 'ipndm', schedule: 'polynomial:7', nfe: 10, seed: 0, batch: image ? 20 : 256, label: 'cycle', guidance: image ? 2 : 1, noise: '' };
}

/** `text` as an integer in min..max, written plainly: digits only (no sign, hex, exponent,
 * padding or empty text, all of which `Number` would accept). Throws naming `name`. */
export function int(name: string, text: string, min: number, max: number): number {
  const v = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${text}"`);
  return v;
}

/** `text` as a decimal number in min..max (e.g. 2, 0.5, 1e-3); no hex, padding or empty text. */
export function decimal(name: string, text: string, min: number, max: number): number {
  const v = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${name} must be a number in ${min}..${max}, got "${text}"`);
  return v;
}

/** A sigma list as the URL writes it: comma-separated decimals. The sampler checks the order. */
export function sigmaList(text: string): number[] {
  const parts = text.split(',');
  if (parts.length < 2 || parts.length > MAX_SIGMAS) throw new Error(`sigmas must be 2..${MAX_SIGMAS} comma-separated numbers, got ${parts.length}`);
  return parts.map((p, i) => decimal(`sigma ${i}`, p, 0, 1e5));
}

/** Settings from named text values (URL parameters, widget attributes, form fields); absent
 * names keep the model's defaults. Throws on the first bad value, naming it. */
export function parseSettings(get: (name: string) => string | null): Settings {
  const model = modelById(get('model') ?? MODELS[0].id);
  const s = defaults(model);
  const value = (name: (typeof FIELDS)[number]) => get(name) ?? undefined;
  const solver = value('solver');
  if (solver !== undefined) {
    checkSolver(solver);
    s.solver = solver;
  }
  const schedule = value('schedule');
  if (schedule !== undefined) {
    if (!SCHEDULES.some(([v]) => v === schedule)) throw new Error(`unknown schedule "${schedule}" (one of: ${SCHEDULES.map(([v]) => v).join(', ')})`);
    if (schedule.startsWith('gits') && schedule !== 'gits-here' && !shippedGits(model, schedule)) throw new Error(`no ${schedule} schedule is shipped for model "${model.id}"; compute one`);
    s.schedule = schedule;
  }
  const sigmas = get('sigmas') || undefined;
  if (sigmas !== undefined) s.sigmas = sigmaList(sigmas);
  else if (s.schedule === 'custom') throw new Error('schedule custom needs its sigmas (the sigmas parameter)');
  const [nfe, seed, batch] = [value('nfe'), value('seed'), value('batch')];
  if (nfe !== undefined) s.nfe = int('nfe', nfe, 1, 200);
  if (seed !== undefined) s.seed = int('seed', seed, 0, Number.MAX_SAFE_INTEGER);
  if (batch !== undefined) s.batch = int('batch', batch, 1, model.kind === 'image' ? 256 : 4096);
  const label = value('label');
  if (label !== undefined) {
    const classes = model.classes ?? 0;
    const ok = label === 'cycle' || label === 'none' || (/^\d+$/.test(label) && Number(label) < classes);
    if (!ok) throw new Error(`class must be ${classes ? `0..${classes - 1}, ` : ''}cycle or none, got "${label}"`);
    s.label = label;
  }
  const noise = value('noise');
  if (noise !== undefined) {
    if (!NOISE_SOURCES.some(([v]) => v === noise)) throw new Error(`noise must be fresh or brownian, got "${noise}"`);
    s.noise = noise;
  }
  const guidance = value('guidance');
  if (guidance !== undefined) {
    s.guidance = decimal('guidance', guidance, 0, 20);
  }
  return s;
}

/** The settings that differ from the model's defaults, as URL parameters (model always). */
export function toParams(s: Settings): URLSearchParams {
  const base = defaults(modelById(s.model));
  const params = new URLSearchParams({ model: s.model });
  for (const name of FIELDS) if (name !== 'model' && s[name] !== base[name]) params.set(name, String(s[name]));
  if (s.sigmas) params.set('sigmas', s.sigmas.join(','));
  return params;
}
