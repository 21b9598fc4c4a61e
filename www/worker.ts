// The sampling worker: owns the wasm module, the backend (WebGPU or the CPU fallback) and the
// loaded models, so sampling and GITS searches never block the page.
import type * as Wasm from './pkg/gits_sampler_cpu.js';
import { MAX_MODEL_BYTES, boundedBytes } from './bounded.js';
import { openOnnx, onnxInterface } from './onnx-runtime.js';
import { labels } from './labels.js';
import { memo } from './memo.js';
import type { BackendInfo, CostMap, GitsOptions, Imported, OnnxInfo, OnnxSource, PlanRequest, PlanSummary, Projection, Reply, Request, SampleArgs, SampleResult, WarmRows } from './protocol.js';

const scope = self as unknown as {
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
  postMessage(message: Reply, transfer?: Transferable[]): void;
};

type Module = typeof Wasm; // the WebGPU module has the same API
let engine: Promise<{ wasm: Module; sampler: Wasm.Sampler }> | undefined;
const cancelled = new Set<number>();

/** Models by URL, on the sampler's device; GITS files parsed once per model and text. */
const models = new Map<string, Promise<Wasm.Model>>();
const gitsFiles = new Map<string, Wasm.GitsSchedules>();

/** The CPU module as compiled here: the page hands it to its helper workers, which then share
 * its code (V8 compiles and optimizes it once for all of them). */
let cpuModule: WebAssembly.Module | undefined;

async function compileWasm(url: URL): Promise<WebAssembly.Module> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  // A host that serves .wasm without its MIME type cannot stream it: compile the bytes then.
  return WebAssembly.compileStreaming(response.clone()).catch(async () => WebAssembly.compile(await response.arrayBuffer()));
}

async function open(which: 'webgpu' | 'cpu', compiled?: WebAssembly.Module): Promise<Module> {
  // Literal paths, so the bundler leaves both imports to the browser.
  const wasm = (await (which === 'webgpu' ? import('./pkg/gits_sampler_webgpu.js') : import('./pkg/gits_sampler_cpu.js'))) as Module;
  const module = compiled ?? (await compileWasm(new URL(`./pkg/gits_sampler_${which}_bg.wasm`, import.meta.url)));
  if (which === 'cpu') cpuModule = module;
  const exports = await wasm.default({ module_or_path: module });
  // For the soak test (and the console): how large the module's memory has grown.
  (self as unknown as { wasmMemoryBytes: () => number }).wasmMemoryBytes = () => exports.memory.buffer.byteLength;
  return wasm;
}

/** Why WebGPU cannot be used here, asked before its module is downloaded; undefined if it can. */
async function webgpuMissing(): Promise<string | undefined> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<object | null> } }).gpu;
  if (!gpu) return 'this browser exposes no WebGPU (navigator.gpu is missing)';
  return (await gpu.requestAdapter().catch(() => null)) ? undefined : 'the browser offers no WebGPU adapter';
}

/** The WebGPU devices wgpu asked for, so a loss is noticed (and a test can cause one). */
const devices: { destroy(): void; lost: Promise<{ reason: string; message: string }> }[] = [];

/** Wraps `GPUAdapter.requestDevice` before wgpu calls it: each device's `lost` promise tells
 * the page, which replaces this worker by one on the CPU (a lost device never answers again). */
function watchDevices(): void {
  type Adapter = { prototype: { requestDevice(...a: unknown[]): Promise<(typeof devices)[number]> } };
  const adapter = (self as unknown as { GPUAdapter?: Adapter }).GPUAdapter;
  if (!adapter) return;
  const original = adapter.prototype.requestDevice;
  adapter.prototype.requestDevice = async function (...args: unknown[]) {
    const device = await original.apply(this, args);
    devices.push(device);
    void device.lost.then((info) => scope.postMessage({ id: 0, deviceLost: `${info.reason}${info.message ? `: ${info.message}` : ''}` }));
    return device;
  };
}

/** The WebGPU module where an adapter works; else the CPU module, downloaded only then. */
async function backend(preferWebgpu = true, compiled?: WebAssembly.Module): Promise<{ wasm: Module; sampler: Wasm.Sampler }> {
  engine ??= (async () => {
    let why = preferWebgpu ? await webgpuMissing() : 'WebGPU was turned off by the page';
    if (why === undefined) {
      try {
        watchDevices();
        const wasm = await open('webgpu');
        return { wasm, sampler: await wasm.Sampler.webgpu() };
      } catch (e) {
        why = e instanceof Error ? e.message : String(e);
      }
    }
    const wasm = await open('cpu', compiled);
    return { wasm, sampler: wasm.Sampler.cpu(why) };
  })();
  return engine;
}

/** A model file's bytes until it is loaded: a prefetch starts the download beside the wasm
 * module's, and the load takes it. */
const modelBytes = new Map<string, Promise<Uint8Array>>();

function fetchModel(url: string): Promise<Uint8Array> {
  return memo(modelBytes, url, async () => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
    return boundedBytes(response, url, MAX_MODEL_BYTES);
  });
}

function load(url: string): Promise<Wasm.Model> {
  return memo(models, url, async () => {
    try {
      const [{ sampler }, bytes] = await Promise.all([backend(), fetchModel(url)]);
      return sampler.loadModel(bytes, url);
    } finally {
      modelBytes.delete(url); // loaded, or bad: either way the next load fetches afresh
    }
  });
}

/** Opens an ONNX model under its key: later requests name it like a URL. */
async function openOnnxModel(id: number, source: OnnxSource): Promise<OnnxInfo> {
  const { wasm, sampler } = await backend();
  const opened = openOnnx(wasm, sampler, source, (done, total) => scope.postMessage({ id, progress: [done, total] }));
  const model = opened.then((o) => o.model);
  model.catch(() => models.delete(source.key)); // a failed open is reported by this request
  models.set(source.key, model);
  return (await opened).info;
}

/** The GITS file `text` loaded (and checked) for `model` once. */
function gitsFor(wasm: Module, url: string, model: Wasm.Model, text: string, name: string): Wasm.GitsSchedules {
  const key = `${url}\n${text}`;
  let file = gitsFiles.get(key);
  if (!file) {
    try {
      file = wasm.GitsSchedules.load(text, model);
    } catch (e) {
      throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    gitsFiles.set(key, file);
  }
  return file;
}

/** The plan of `req`, with the step noise it asks for. */
function compile(wasm: Module, req: PlanRequest, url: string, model: Wasm.Model): Wasm.Plan {
  const plan = compiled(wasm, req, url, model);
  if (!req.noise) return plan;
  try {
    return plan.withNoise(req.noise);
  } finally {
    plan.free();
  }
}

function compiled(wasm: Module, req: PlanRequest, url: string, model: Wasm.Model): Wasm.Plan {
  if (req.schedule === 'teacher') return model.teacherPlan();
  if (req.schedule === 'reference') return model.referencePlan();
  if (req.schedule === 'custom') {
    if (!req.sigmas) throw new Error('a custom schedule needs its sigmas');
    return model.planOn(req.solver, Float64Array.from(req.sigmas), req.afs ?? false);
  }
  if (req.schedule !== 'gits') return model.plan(req.solver, req.schedule, req.nfe, false, false);
  const name = req.gitsName ?? 'the GITS schedule file';
  if (req.gits === '') throw new Error(`${name} is empty: not a GITS schedule file`);
  if (!req.gits) throw new Error('compute a GITS schedule first');
  try {
    return gitsFor(wasm, url, model, req.gits, name).plan(req.solver, req.nfe, req.afs, undefined);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(message.startsWith(`${name}: `) ? message : `${name}: ${message}`);
  }
}

async function sample(id: number, args: SampleArgs): Promise<SampleResult> {
  const { wasm, sampler } = await backend();
  const model = await load(args.model);
  const plan = compile(wasm, args.plan, args.model, model);
  try {
    const seed = BigInt(args.seed);
    const onEval = (done: number, nfe: number) => scope.postMessage({ id, progress: [done, nfe] });
    const [start, end] = args.rows ?? [0, args.batch];
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end && end <= args.batch)) {
      throw new Error(`rows [${start}, ${end}) are not rows of a batch of ${args.batch}`);
    }
    const summary = plan.summary() as PlanSummary;
    const noise = wasm.standardNormal(seed, args.batch, model.dim).subarray(start * model.dim, end * model.dim);
    const classes = labels(args.label ?? 'none', args.batch, model.classes).subarray(start, end);
    const r = (await sampler.sample(plan, model, noise, classes, args.guidance ?? 1, seed, start, onEval)) as Omit<SampleResult, 'plan'>;
    return { ...r, sigmaRange: [model.sigmaMin, model.sigmaMax], plan: summary };
  } finally {
    plan.free();
  }
}

/** Mean over the batch of ||a_n - b_n||_2, by the crate's definition. */
async function meanL2(a: Float32Array, b: Float32Array, dim: number): Promise<number> {
  const { wasm } = await backend();
  return wasm.meanL2(a, b, dim);
}

/** Fed searches (their warmup comes from the page's workers) by request id, and what
 * resolves once all their warmup is in. */
const fed = new Map<number, { search: Wasm.GitsSearch; rows: number; warmed: () => void }>();

async function gits(id: number, url: string, options: GitsOptions, isFed: boolean): Promise<string | null> {
  const { wasm } = await backend();
  const search = new wasm.GitsSearch(await load(url), options);
  try {
    if (isFed && options.warmup > 0) {
      await new Promise<void>((warmed) => fed.set(id, { search, rows: options.warmup, warmed }));
      fed.delete(id);
      if (cancelled.has(id)) return null;
    }
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
      const { sampler } = await backend(req.preferWebgpu, req.module);
      return { backend: sampler.backend as BackendInfo['backend'], description: sampler.description, module: cpuModule } satisfies BackendInfo;
    }
    case 'sample':
      return sample(req.id, req.args);
    case 'project': {
      const { wasm } = await backend();
      return wasm.projectTrajectory(req.path, req.denoised, req.dim) as Projection;
    }
    case 'gits':
      return gits(req.id, req.model, req.options, req.fed ?? false);
    case 'gitsWarm': {
      const { wasm } = await backend();
      const search = new wasm.GitsSearch(await load(req.model), req.options);
      try {
        return (await search.warmRows(...req.rows)) as WarmRows;
      } finally {
        search.free();
      }
    }
    case 'gitsAdd': {
      const f = fed.get(req.target);
      if (!f) throw new Error(`no GITS search ${req.target} waits for its warmup`);
      f.search.addWarmup(req.start, req.xs, req.ds);
      scope.postMessage({ id: req.target, progress: [f.search.done, f.search.total] });
      if (f.search.warmupDone === f.rows) f.warmed();
      return null;
    }
    case 'l2':
      return meanL2(req.a, req.b, req.dim);
    case 'mmd':
      return (await load(req.model)).mmdToExact(req.samples, req.sigma);
    case 'gitsMap': {
      const { wasm } = await backend();
      return gitsFor(wasm, req.model, await load(req.model), req.gits, req.gitsName).costMap(req.gamma) as CostMap;
    }
    case 'importSigmas':
      return (await load(req.model)).importSigmas(req.text, req.zeroToSigmaMin) as Imported;
    case 'exportSigmas': {
      const { wasm } = await backend();
      return wasm.exportSigmas(Float64Array.from(req.sigmas), req.format);
    }
    case 'openOnnx':
      return openOnnxModel(req.id, req.source);
    case 'inspectOnnx': {
      const { wasm } = await backend();
      return onnxInterface(wasm, req.model, (done, total) => scope.postMessage({ id: req.id, progress: [done, total] }));
    }
    case 'prefetch':
      // A loaded model needs no bytes; a failed fetch is reported by the load that needs it.
      if (!models.has(req.model)) void fetchModel(req.model).catch(() => {});
      return null;
    case 'cancel':
      cancelled.add(req.target);
      fed.get(req.target)?.warmed(); // a fed search waiting for its warmup stops now
      return null;
    case 'destroyDevice':
      if (devices.length === 0) throw new Error('no WebGPU device to destroy (the worker runs on the CPU)');
      devices.forEach((d) => d.destroy());
      return null;
  }
}

scope.onmessage = (ev) => {
  const req = ev.data;
  handle(req).then(
    (result) => {
      const r = result as Partial<SampleResult> | null;
      const w = result as Partial<WarmRows> | null;
      const transfer =
        r && r.samples instanceof Float32Array ? [r.samples.buffer, r.steps!.buffer, r.evals!.buffer, r.stepSigmas!.buffer, r.evalSigmas!.buffer]
        : w && w.xs instanceof Float64Array ? [w.xs.buffer, w.ds!.buffer]
        : [];
      scope.postMessage({ id: req.id, ok: true, result }, transfer);
    },
    (e: unknown) => {
      // A trap (a Rust panic, or memory exhausted) is a bug; its message alone says nothing.
      const fatal = e instanceof WebAssembly.RuntimeError;
      const message = e instanceof Error ? e.message : String(e);
      scope.postMessage({ id: req.id, ok: false, error: fatal ? `the wasm module trapped (${message}) during ${req.op}` : message, fatal });
    },
  ).finally(() => {
    if (req.op !== 'cancel') cancelled.delete(req.id);
  });
};
