// The wire types between the page and the sampling worker (engine.ts <-> worker.ts): requests,
// replies, and what they carry. Nothing here imports from the page's modules.

/** A solver on a schedule over the model's sigma range: a named family, a GITS schedule file's
 * text (`schedule: 'gits'`), a sigma list (`'custom'`: `nfe` follows from it), the teacher that
 * compare mode measures against (`'teacher'`: iPNDM, polynomial rho 7, 60 NFE, as `gits-sampler
 * eval`) or the schedule lab's reference (`'reference'`: the same with 200 NFE for exact models,
 * the teacher for networks); `solver` and `nfe` mean nothing to the last two. */
export interface PlanRequest {
  solver: string;
  schedule: string;
  nfe: number;
  /** The sigmas, for schedule 'custom' (strictly decreasing; only the last may be 0). */
  sigmas?: number[];
  /** The GITS schedule file, for schedule 'gits'. */
  gits?: string;
  /** Where `gits` came from (a path, or "the schedule computed here"), for messages. */
  gitsName?: string;
  /** Analytic first step, or not; undefined: as the GITS file chose for the solver (AFS where
   * its search refined AFS schedules for it), none for other schedules. */
  afs?: boolean;
  /** Step noise of stochastic solvers: 'fresh' or 'brownian'; undefined: the solver's default
   * (k-diffusion's: brownian for the *_sde solvers). */
  noise?: 'fresh' | 'brownian';
}

/** `model` is a URL: a weights file (*.gsw) or an analytic denoiser's JSON; or the key of an
 * ONNX model opened with 'openOnnx'. */
export interface SampleArgs {
  model: string;
  plan: PlanRequest;
  seed: number;
  batch: number;
  /** Networks with classes: a class, 'cycle' (0, 1, ..., in turn) or 'none' (unconditional). */
  label?: string;
  /** Classifier-free guidance scale (networks with classes). */
  guidance?: number;
  /** Only rows [start, end) of the batch: their noise, step noise (each sample has its own
   * seed) and classes are those rows of the whole batch's, so the rows equal the whole batch's
   * (a CPU job split over workers). */
  rows?: [number, number];
}

/** Rows [start, end) of a batch, sampled: what a split job shows as it fills in. */
export interface SampledRows {
  start: number;
  end: number;
  /** The rows' final samples, [end - start, dim] flattened. */
  samples: Float32Array;
}

export interface SampleResult {
  /** The model's sigma range [sigma_min, sigma_max] (its schedules span it). */
  sigmaRange: [number, number];
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
  /** The plan that ran. */
  plan: PlanSummary;
}

/** One operation of a plan in words (register r0 is the starting noise z). */
export interface PlanRow {
  kind: 'eval' | 'combine' | 'noise' | 'emit';
  operation: string;
  sigma: number | null;
  /** [register, coefficient] of a combination. */
  coefficients: [number, number][];
}

/** What the plan table shows of a plan. */
export interface PlanSummary {
  solver: string;
  nfe: number;
  /** The first step is analytic (no evaluation). */
  afs: boolean;
  sigmas: number[];
  /** Where a stochastic plan's step noise comes from; null for plans without step noise. */
  noise: 'fresh' | 'brownian' | null;
  rows: PlanRow[];
}

/** The search settings `GitsSearch` takes (the CLI's `gits` flags). */
export interface GitsOptions {
  teacher: string;
  grid: string;
  warmup: number;
  seed: number;
  metric: string;
  gammas: number[];
  minSteps: number;
  maxSteps: number;
  afsStudent?: string;
  /** Price each jump by the error it leaves in the final sample (the CLI's `--propagate`). */
  propagate?: boolean;
  /** Also refine every schedule for these solvers by running them (the CLI's `--refine`). */
  refine?: string[];
  /** Also run the optimal-step search for these solvers (the CLI's `--optimal-steps`). */
  optimalSteps?: string[];
  /** Warmup trajectories per step: smaller gives finer progress and a quicker cancel. */
  chunk?: number;
}

/** Warmup trajectories of some rows: x at every grid point, the derivative at every point but
 * the last, each [point][row][dim] flattened. */
export interface WarmRows {
  xs: Float64Array;
  ds: Float64Array;
}

/** A trajectory in its own 3-D frame: [along x_T - x_0, PC 1, PC 2] per point, relative to
 * x_0; `captured` is the share of the path's spread off the line x_T -> x_0 that PC 1 and PC 2
 * keep (1: the trajectory lies in 3-D). */
export interface Projection {
  path: [number, number, number][];
  denoised: [number, number, number][];
  captured: number;
}

/** A GITS file's cost matrix and the DP's paths through it at one gamma. */
export interface CostMap {
  /** The grid's sigmas, from sigma_max down. */
  grid: number[];
  /** rows[i][k]: the cost of the jump from grid point i to grid point i + 1 + k. */
  rows: number[][];
  gamma: number;
  /** paths[k - 1]: the DP's grid indices for k steps at `gamma`. */
  paths: number[][];
  /** For a propagated search: the grid points measured, the first jump's landing error there
   * (what the paper's cost prices) and the error it leaves in the final sample. */
  propagation?: { measured: number[]; landing: number[]; left: number[] };
}

/** A sigma list read from another tool's text (`gits-sampler import`). */
export interface Imported {
  sigmas: number[];
  /** The notation read, in words. */
  notation: string;
  /** What the list's last sigma means here, in words. */
  last: string;
}

/** An ONNX model to open: the file (picked, dropped) or a same-origin URL, and its card. */
export interface OnnxSource {
  /** The name the page uses for it in requests (its `model`). */
  key: string;
  /** What GITS files and messages call it (the file's name or URL). */
  name: string;
  model: Blob | string;
  /** The card's JSON text; without it, the card in the file's metadata_props, else `scheduler`. */
  card?: string;
  /** A diffusers scheduler_config.json's text. */
  scheduler?: string;
}

/** A graph input or output as the ONNX file declares it (shape entries: sizes or names). */
export interface TensorInfo {
  name: string;
  type: string;
  shape: (number | string)[] | null;
}

/** An ONNX file's interface, read before any card (`metadataCard`: its metadata_props hold one). */
export interface OnnxInterface {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  metadataCard: boolean;
}

/** An opened ONNX model, as the page shows it. */
export interface OnnxInfo extends OnnxInterface {
  key: string;
  name: string;
  sha256: string;
  bytes: number;
  dim: number;
  classes: number;
  /** One sample's shape: [C, H, W] or [D]. */
  sampleShape: number[];
  dataRange: [number, number];
  sigmaRange: [number, number];
  /** The card it runs with (JSON), where that came from, what it makes of the graph. */
  card: string;
  cardSource: string;
  description: string[];
  /** onnxruntime-web's execution provider: webgpu or wasm. */
  runtime: string;
}

export interface BackendInfo {
  backend: 'webgpu' | 'cpu';
  description: string;
  /** The compiled CPU module (on the CPU backend), for helper workers to share. */
  module?: WebAssembly.Module;
}

export type Request =
  | { id: number; op: 'init'; preferWebgpu: boolean; module?: WebAssembly.Module }
  | { id: number; op: 'sample'; args: SampleArgs }
  | { id: number; op: 'project'; path: Float64Array; denoised: Float64Array; dim: number }
  /** `fed`: the page runs the warmup on its workers and feeds it with 'gitsAdd'. */
  | { id: number; op: 'gits'; model: string; options: GitsOptions; fed?: boolean }
  /** Warmup rows [start, end) of the search `options` describes, run and sent back (not kept). */
  | { id: number; op: 'gitsWarm'; model: string; options: GitsOptions; rows: [number, number] }
  /** Warmup rows from `start` for the fed search of request `target`. */
  | { id: number; op: 'gitsAdd'; target: number; start: number; xs: Float64Array; ds: Float64Array }
  | { id: number; op: 'l2'; a: Float32Array; b: Float32Array; dim: number }
  | { id: number; op: 'mmd'; model: string; samples: Float32Array; sigma: number }
  | { id: number; op: 'gitsMap'; model: string; gits: string; gitsName: string; gamma: number }
  | { id: number; op: 'importSigmas'; model: string; text: string; zeroToSigmaMin: boolean }
  | { id: number; op: 'exportSigmas'; sigmas: number[]; format: string }
  /** Opens an ONNX model with onnxruntime-web (loaded then); progress: bytes downloaded. */
  | { id: number; op: 'openOnnx'; source: OnnxSource }
  /** An ONNX file's declared interface, without a card or a runtime. */
  | { id: number; op: 'inspectOnnx'; model: Blob | string }
  /** Starts downloading a model file (beside the wasm module's download); answers at once. */
  | { id: number; op: 'prefetch'; model: string }
  | { id: number; op: 'cancel'; target: number }
  /** Test hook: destroys the worker's WebGPU device, as a driver reset or a GPU crash would. */
  | { id: number; op: 'destroyDevice' };

export type Reply =
  | { id: number; ok: true; result: unknown }
  /** `fatal`: the wasm module trapped; the page replaces the worker. */
  | { id: number; ok: false; error: string; fatal?: boolean }
  | { id: number; progress: [number, number] }
  /** Sent unasked (id 0) when the WebGPU device is lost; the page moves to the CPU. */
  | { id: 0; deviceLost: string };
