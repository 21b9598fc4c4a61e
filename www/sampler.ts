// Loads the wasm module once and wraps its Sampler with typed results.
import init, { Sampler, compilePlan, compileGitsPlan, standardNormal, denoiserDim } from './pkg/gits_sampler.js';

export interface SampleResult {
  dim: number;
  batch: number;
  nfe: number;
  samples: Float32Array;
  stepSigmas: Float64Array;
  /** x at every step, [steps, batch, dim] flattened. */
  steps: Float32Array;
  evalSigmas: Float64Array;
  /** D(x) at every evaluation, [evals, batch, dim] flattened. */
  evals: Float32Array;
}

export interface SampleRequest {
  solver: string;
  schedule: string;
  nfe: number;
  seed: number;
  batch: number;
  sigmaMin: number;
  sigmaMax: number;
}

let ready: Promise<unknown> | undefined;

/** Initialises the wasm module (once) and picks the backend. */
export async function createSampler(preferWebgpu: boolean): Promise<Sampler> {
  ready ??= init({ module_or_path: new URL('./pkg/gits_sampler_bg.wasm', import.meta.url) });
  await ready;
  return Sampler.create(preferWebgpu);
}

/** Compiles the plan (on a GITS schedule file when `gits` is given and the schedule is
 * 'gits'; `afs`: its AFS-refined schedule), draws the seeded noise and samples. Errors reject with their message. */
export async function sample(sampler: Sampler, denoiserJson: string, req: SampleRequest, gits?: string, afs = false): Promise<SampleResult> {
  let plan: string;
  if (req.schedule === 'gits') {
    if (!gits) throw new Error('compute a GITS schedule first');
    plan = compileGitsPlan(req.solver, gits, req.nfe, undefined, afs);
  } else {
    plan = compilePlan(req.solver, req.schedule, req.nfe, req.sigmaMin, req.sigmaMax, false, false);
  }
  const noise = standardNormal(BigInt(req.seed), req.batch, denoiserDim(denoiserJson));
  return (await sampler.sample(plan, denoiserJson, noise, BigInt(req.seed))) as SampleResult;
}
