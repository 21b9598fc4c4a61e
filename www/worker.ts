// The sampling worker: owns the wasm module, the backend (WebGPU or the CPU fallback) and the
// loaded models, so sampling and GITS searches never block the page.
import type * as Wasm from './pkg/gits_sampler_cpu.js';
import { labels } from './labels.js';
import type { GitsOptions } from './gits.js';
import type { BackendInfo, PlanRequest, Projection, Reply, Request, SampleArgs, SampleResult } from './protocol.js';

const scope = self as unknown as {
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
  postMessage(message: Reply, transfer?: Transferable[]): void;
};

type Module = typeof Wasm; // the WebGPU module has the same API
let engine: Promise<{ wasm: Module; sampler: Wasm.Sampler }> | undefined;
const cancelled = new Set<number>();

/** A model by URL: an analytic denoiser (its JSON text) or a network on the sampler's device. */
type Loaded = { kind: 'json'; text: string; dim: number } | { kind: 'network'; model: Wasm.Model; sigmaMin: number; sigmaMax: number };
const models = new Map<string, Promise<Loaded>>();

async function open(which: 'webgpu' | 'cpu'): Promise<Module> {
  // Literal paths, so the bundler leaves both imports to the browser.
  const wasm = (await (which === 'webgpu' ? import('./pkg/gits_sampler_webgpu.js') : import('./pkg/gits_sampler_cpu.js'))) as Module;
  await wasm.default({ module_or_path: new URL(`./pkg/gits_sampler_${which}_bg.wasm`, import.meta.url) });
  return wasm;
}

/** Why WebGPU cannot be used here, asked before its module is downloaded; undefined if it can. */
async function webgpuMissing(): Promise<string | undefined> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<object | null> } }).gpu;
  if (!gpu) return 'this browser exposes no WebGPU (navigator.gpu is missing)';
  return (await gpu.requestAdapter().catch(() => null)) ? undefined : 'the browser offers no WebGPU adapter';
}

/** The WebGPU module where an adapter works; else the CPU module, downloaded only then. */
async function backend(preferWebgpu = true): Promise<{ wasm: Module; sampler: Wasm.Sampler }> {
  engine ??= (async () => {
    let why = preferWebgpu ? await webgpuMissing() : 'WebGPU was turned off by the page';
    if (why === undefined) {
      try {
        const wasm = await open('webgpu');
        return { wasm, sampler: await wasm.Sampler.webgpu() };
      } catch (e) {
        why = e instanceof Error ? e.message : String(e);
      }
    }
    const wasm = await open('cpu');
    return { wasm, sampler: wasm.Sampler.cpu(why) };
  })();
  return engine;
}

function load(url: string): Promise<Loaded> {
  let loaded = models.get(url);
  if (!loaded) {
    loaded = (async () => {
      const { wasm, sampler } = await backend();
      const response = await fetch(url);
      if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
      if (url.endsWith('.gsw')) {
        const model = sampler.loadModel(new Uint8Array(await response.arrayBuffer()));
        const m = JSON.parse(model.manifest) as { sigma_min: number; sigma_max: number };
        return { kind: 'network', model, sigmaMin: m.sigma_min, sigmaMax: m.sigma_max } as const;
      }
      const text = await response.text();
      return { kind: 'json', text, dim: wasm.denoiserDim(text) } as const;
    })();
    loaded.catch(() => models.delete(url)); // a failed load may be retried
    models.set(url, loaded);
  }
  return loaded;
}

function compile(wasm: Module, req: PlanRequest, model: Loaded): string {
  if (req.schedule === 'gits') {
    if (!req.gits) throw new Error('compute a GITS schedule first');
    const sha = model.kind === 'network' ? model.model.sha256 : undefined; // the file must be this model's
    return wasm.compileGitsPlan(req.solver, req.gits, req.nfe, undefined, req.afs ?? false, sha);
  }
  const [lo, hi] = model.kind === 'network' ? [model.sigmaMin, model.sigmaMax] : [0.002, 80];
  return wasm.compilePlan(req.solver, req.schedule, req.nfe, lo, hi, false, false);
}

async function sample(id: number, args: SampleArgs): Promise<SampleResult> {
  const { wasm, sampler } = await backend();
  const model = await load(args.model);
  const plan = compile(wasm, args.plan, model);
  const seed = BigInt(args.seed);
  const onEval = (done: number, nfe: number) => scope.postMessage({ id, progress: [done, nfe] });
  if (model.kind === 'json') {
    const noise = wasm.standardNormal(seed, args.batch, model.dim);
    return { ...((await sampler.sample(plan, model.text, noise, seed, onEval)) as Omit<SampleResult, 'plan'>), plan };
  }
  const m = model.model;
  const noise = wasm.standardNormal(seed, args.batch, m.dim);
  const classes = labels(args.label ?? 'none', args.batch, m.classes);
  return { ...((await sampler.sampleModel(plan, m, noise, classes, args.guidance ?? 1, seed, onEval)) as Omit<SampleResult, 'plan'>), plan };
}

async function gits(id: number, url: string, options: GitsOptions): Promise<string | null> {
  const { wasm } = await backend();
  const model = await load(url);
  const search = model.kind === 'network' ? wasm.GitsSearch.forModel(model.model, url, options) : new wasm.GitsSearch(model.text, url, options);
  try {
    while (!(await search.step())) {
      scope.postMessage({ id, progress: [search.done, search.total] });
      await new Promise((r) => setTimeout(r)); // take a cancel message between chunks
      if (cancelled.has(id)) return null;
    }
    scope.postMessage({ id, progress: [search.total, search.total] });
    return (await search.finish()) as string;
  } finally {
    search.free();
  }
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'init': {
      const { sampler } = await backend(req.preferWebgpu);
      return { backend: sampler.backend as BackendInfo['backend'], description: sampler.description } satisfies BackendInfo;
    }
    case 'sample':
      return sample(req.id, req.args);
    case 'project': {
      const { wasm } = await backend();
      return wasm.projectTrajectory(req.path, req.denoised, req.dim) as Projection;
    }
    case 'gits':
      return gits(req.id, req.model, req.options);
    case 'cancel':
      cancelled.add(req.target);
      return null;
  }
}

scope.onmessage = (ev) => {
  const req = ev.data;
  handle(req).then(
    (result) => {
      const r = result as Partial<SampleResult> | null;
      const transfer = r && r.samples instanceof Float32Array ? [r.samples.buffer, r.steps!.buffer, r.evals!.buffer, r.stepSigmas!.buffer, r.evalSigmas!.buffer] : [];
      scope.postMessage({ id: req.id, ok: true, result }, transfer);
    },
    (e: unknown) => scope.postMessage({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  ).finally(() => {
    if (req.op !== 'cancel') cancelled.delete(req.id);
  });
};
