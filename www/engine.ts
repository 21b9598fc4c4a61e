// The page's side of the sampling worker: one worker (so one WebGPU device) for everything on
// the page, requests as promises, progress as callbacks, cancel by id. On the CPU a sampling
// job is split by rows over helper workers, each its own CPU wasm instance (every core without
// cross-origin isolation); the rows equal the whole batch's, since each row's noise, step noise
// and class are its own.
import { workerUrl } from './base.js';
import type { BackendInfo, CostMap, GitsOptions, Imported, OnnxInfo, OnnxInterface, OnnxSource, Projection, Reply, Request, SampleArgs, SampledRows, SampleResult, WarmRows } from './protocol.js';

/** Most workers a CPU job is split over. */
export const MAX_WORKERS = 16;

/** The row ranges a batch is split into for `workers`: one row first (the first digit shows as
 * early as it can), then pieces of about a third of a worker's share. */
export function rowPieces(batch: number, workers: number): [number, number][] {
  const size = Math.max(1, Math.ceil(batch / (3 * workers)));
  const pieces: [number, number][] = [[0, 1]];
  for (let start = 1; start < batch; start += size) pieces.push([start, Math.min(batch, start + size)]);
  return pieces;
}

/** Runs pieces 0..count-1 on `engines`, each taking the next piece when it is free (so a
 * slower one takes fewer), until all are done or `stop()` says so. With `firstAlone`, piece 0
 * runs on the first engine before the others start: on a fresh page it runs in V8's baseline
 * tier, and the other workers would only slow it down (they share the cores and the code that
 * V8 optimizes meanwhile). */
async function drainPieces(engines: Engine[], count: number, run: (engine: Engine, piece: number) => Promise<void>, { stop = () => false, firstAlone = false }: { stop?: () => boolean; firstAlone?: boolean } = {}): Promise<void> {
  const queue = [...Array(count).keys()];
  if (firstAlone && count > 0) await run(engines[0], queue.shift()!);
  await Promise.all(engines.map(async (engine) => {
    for (let i = queue.shift(); i !== undefined && !stop(); i = queue.shift()) await run(engine, i);
  }));
}

/** The pieces' results as one result of the whole batch (each piece's rows in their place). */
function gather(parts: SampleResult[], pieces: [number, number][], batch: number): SampleResult {
  const { dim, stepSigmas, evalSigmas } = parts[0];
  const rows = (field: 'samples' | 'steps' | 'evals', count: number) => {
    const out = new Float32Array(count * batch * dim);
    parts.forEach((r, i) => {
      const [start, end] = pieces[i];
      const n = (end - start) * dim;
      for (let k = 0; k < count; k++) out.set(r[field].subarray(k * n, (k + 1) * n), (k * batch + start) * dim);
    });
    return out;
  };
  return { ...parts[0], batch, samples: rows('samples', 1), steps: rows('steps', stepSigmas.length), evals: rows('evals', evalSigmas.length) };
}

/** A request in flight: resolves to its result, or null once cancelled. */
export interface Job<T> {
  done: Promise<T | null>;
  cancel(): void;
  /** The request's id in its worker. */
  id?: number;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: (done: number, total: number) => void };

export class Engine {
  private worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  /** The backend of the current worker (a restarted worker sets it anew). */
  backend!: Promise<BackendInfo>;
  /** Faults since the last successful reply. */
  private faults = 0;

  /** Workers a CPU sampling job is split over, this one included (1: none; at most
   * MAX_WORKERS). */
  workers = Math.min(Math.max(1, navigator.hardwareConcurrency || 1), 4);
  /** The CPU workers beside this one, started on the first split job. */
  private readonly helpers: Engine[] = [];

  /** Called when the backend changes under the page (the WebGPU device was lost). */
  onBackendChange?: (why: string) => void;
  private preferWebgpu: boolean;
  /** A helper's CPU module, compiled by the page's worker (shared code, one compile). */
  private readonly module?: WebAssembly.Module;

  private constructor(preferWebgpu: boolean, module?: WebAssembly.Module) {
    this.preferWebgpu = preferWebgpu;
    this.module = module;
    this.start();
  }

  private start(): void {
    this.worker = new Worker(workerUrl(), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<Reply>) => this.receive(ev.data);
    this.worker.onerror = (ev) => this.restart(`the sampling worker stopped: ${ev.message || 'it could not start'}`);
    this.backend = this.call<BackendInfo>({ op: 'init', preferWebgpu: this.preferWebgpu, module: this.module }).done as Promise<BackendInfo>;
    this.backend.catch(() => {}); // a caller that awaits it sees the failure
    // A fresh worker knows no opened model: open them again (requests queue behind these).
    for (const source of this.opened.values()) void this.call({ op: 'openOnnx', source }).done.catch(() => {});
  }

  /** ONNX models opened on this engine, by key (a restarted worker opens them again). */
  private readonly opened = new Map<string, OnnxSource>();

  /** Opens an ONNX model (onnxruntime-web is loaded then); later requests name it by
   * `source.key`. `onProgress` gets the bytes downloaded of a URL. */
  openOnnx(source: OnnxSource, onProgress?: (done: number, total: number) => void): Promise<OnnxInfo> {
    const done = this.call<OnnxInfo>({ op: 'openOnnx', source }, onProgress).done as Promise<OnnxInfo>;
    return done.then((info) => {
      this.opened.set(source.key, source);
      return info;
    });
  }

  /** The inputs and outputs an ONNX file declares, and whether it carries its card (a URL's
   * bytes are kept for the open that follows; `onProgress` gets the bytes downloaded). */
  inspectOnnx(model: Blob | string, onProgress?: (done: number, total: number) => void): Promise<OnnxInterface> {
    return this.call<OnnxInterface>({ op: 'inspectOnnx', model }, onProgress).done as Promise<OnnxInterface>;
  }

  /** ONNX models run in this engine's worker only (one onnxruntime session, not one per worker). */
  private alone(model: string): boolean {
    return this.opened.has(model);
  }

  /** A wasm trap leaves the module's memory in an unknown state: every request in flight
   * fails with `why` and a fresh worker (a fresh module) takes the next ones. */
  private restart(why: string): void {
    this.worker.terminate();
    this.failAll(why);
    // A worker that faults again and again (it cannot even start) is not restarted forever.
    if (++this.faults > 3) return;
    this.start();
  }

  private static instance: Engine | undefined;

  /** Whether the page's engine (and so its worker) exists yet. */
  static get started(): boolean {
    return Engine.instance !== undefined;
  }

  /** The page's engine; the first caller's WebGPU preference decides the backend. */
  static shared(preferWebgpu = true): Engine {
    Engine.instance ??= new Engine(preferWebgpu);
    return Engine.instance;
  }

  /** This engine and its CPU helpers for the current worker count (helpers started as needed). */
  private pool(module?: WebAssembly.Module): Engine[] {
    const workers = Math.min(Math.max(1, Math.trunc(this.workers) || 1), MAX_WORKERS);
    while (this.helpers.length < workers - 1) this.helpers.push(new Engine(false, module));
    return [this, ...this.helpers.slice(0, workers - 1)];
  }

  /** Samples; `onProgress(evaluations issued, nfe)` follows the plan (over a split job: the
   * mean over its rows, rounded down); `onRows` gets rows of the batch as they are done. */
  async sample(args: SampleArgs, onProgress?: (done: number, total: number) => void, onRows?: (rows: SampledRows) => void): Promise<SampleResult> {
    this.prefetch(args.model);
    const { backend, module } = await this.backend;
    const engines = backend === 'cpu' && args.batch > 1 && !this.alone(args.model) ? this.pool(module) : [this];
    if (engines.length === 1) {
      const r = await this.one(args, onProgress);
      onRows?.({ start: 0, end: r.batch, samples: r.samples });
      return r;
    }
    const pieces = rowPieces(args.batch, engines.length);
    const results: SampleResult[] = [];
    const issued = pieces.map(() => 0);
    const progress = (i: number, done: number, nfe: number) => {
      issued[i] = done * (pieces[i][1] - pieces[i][0]);
      onProgress?.(Math.floor(issued.reduce((a, b) => a + b, 0) / args.batch), nfe);
    };
    await drainPieces(engines, pieces.length, async (engine, piece) => {
      const r = await engine.one({ ...args, rows: pieces[piece] }, (done, nfe) => progress(piece, done, nfe));
      results[piece] = r;
      onRows?.({ start: pieces[piece][0], end: pieces[piece][1], samples: r.samples });
    }, { firstAlone: true });
    return gather(results, pieces, args.batch);
  }

  /** Starts downloading the model file `url` now, beside the backend's start. */
  prefetch(url: string): void {
    void this.call({ op: 'prefetch', model: url }).done.catch(() => {});
  }

  private one(args: SampleArgs, onProgress?: (done: number, total: number) => void): Promise<SampleResult> {
    return this.call<SampleResult>({ op: 'sample', args }, onProgress).done as Promise<SampleResult>;
  }

  /** Sample `n`'s trajectory of `r` in its own 3-D frame. */
  project(r: SampleResult, n: number): Promise<Projection> {
    const { dim, batch } = r;
    const pick = (all: Float32Array, count: number) => {
      const out = new Float64Array(count * dim);
      for (let k = 0; k < count; k++) out.set(all.subarray((k * batch + n) * dim, (k * batch + n + 1) * dim), k * dim);
      return out;
    };
    const path = pick(r.steps, r.stepSigmas.length);
    const denoised = pick(r.evals, r.evalSigmas.length);
    return this.call<Projection>({ op: 'project', path, denoised, dim }).done as Promise<Projection>;
  }

  /** Mean over the batch of ||a_n - b_n||_2 (the crate's L2 to the teacher). */
  meanL2(a: Float32Array, b: Float32Array, dim: number): Promise<number> {
    return this.call<number>({ op: 'l2', a, b, dim }).done as Promise<number>;
  }

  /** The kernel MMD of `samples` to the exact model `model`'s distribution at noise level
   * `sigma` (the crate's `mmd_to_mixture`): compare mode's distance for stochastic samples. */
  mmdToExact(model: string, samples: Float32Array, sigma: number): Promise<number> {
    return this.call<number>({ op: 'mmd', model, samples, sigma }).done as Promise<number>;
  }

  /** The cost matrix of the GITS file `gits` (searched for `model`, a URL; `name` for messages)
   * and the DP's paths through it at `gamma`. */
  gitsMap(model: string, gits: string, name: string, gamma: number): Promise<CostMap> {
    return this.call<CostMap>({ op: 'gitsMap', model, gits, gitsName: name, gamma }).done as Promise<CostMap>;
  }

  /** A sigma list read from another tool's text, for `model` (a URL: a final 0 may become its
   * sigma_min). */
  importSigmas(model: string, text: string, zeroToSigmaMin: boolean): Promise<Imported> {
    return this.call<Imported>({ op: 'importSigmas', model, text, zeroToSigmaMin }).done as Promise<Imported>;
  }

  /** `sigmas` in an export format: json (ours), kdiffusion, diffusers or comfyui. */
  exportSigmas(sigmas: number[], format: string): Promise<string> {
    return this.call<string>({ op: 'exportSigmas', sigmas, format }).done as Promise<string>;
  }

  /** A GITS search for `model` (a URL); resolves to the schedule file's JSON. On the CPU its
   * warmup runs on all the workers, and this one's search takes the rows in order (the file is
   * the same as one worker's). */
  gits(model: string, options: GitsOptions, onProgress: (done: number, total: number) => void): Job<string> {
    let stopped = false;
    let job: Job<string> | undefined;
    const done = this.backend.then(async ({ backend, module }) => {
      if (stopped) return null;
      const engines = backend === 'cpu' && options.warmup > 1 && !this.alone(model) ? this.pool(module) : [this];
      if (engines.length === 1) {
        job = this.call<string>({ op: 'gits', model, options }, onProgress);
        return job.done;
      }
      job = this.call<string>({ op: 'gits', model, options, fed: true }, onProgress);
      const search = job;
      const pieces = rowPieces(options.warmup, engines.length);
      const ready = new Map<number, WarmRows>();
      let next = 0; // the next piece the search takes
      const warm = async (engine: Engine, piece: number) => {
        const rows = await engine.call<WarmRows>({ op: 'gitsWarm', model, options, rows: pieces[piece] }).done;
        if (!rows) return;
        ready.set(piece, rows);
        // Rows go in order: pieces that finish early wait for the ones before them.
        for (let w = ready.get(next); w && !stopped; w = ready.get(next)) {
          ready.delete(next);
          this.worker.postMessage({ id: this.next++, op: 'gitsAdd', target: search.id!, start: pieces[next][0], xs: w.xs, ds: w.ds } satisfies Request, [w.xs.buffer, w.ds.buffer]);
          next++;
        }
      };
      // A failed piece fails the search (its worker's error), and stops the others.
      const warmup = drainPieces(engines, pieces.length, warm, { stop: () => stopped }).catch((e: unknown) => {
        stopped = true;
        search.cancel();
        throw e;
      });
      const [file] = await Promise.all([search.done, warmup]);
      return file;
    });
    return {
      done,
      cancel: () => {
        stopped = true;
        job?.cancel();
      },
    };
  }

  private call<T>(request: DistributiveOmit<Request, 'id'>, onProgress?: (done: number, total: number) => void): Job<T> {
    const id = this.next++;
    const done = new Promise<T | null>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
    });
    this.worker.postMessage({ ...request, id } as Request);
    return { id, done, cancel: () => this.worker.postMessage({ id: this.next++, op: 'cancel', target: id } satisfies Request) };
  }

  /** Test hook: the worker destroys its WebGPU device (the page should move to the CPU). */
  destroyDevice(): Promise<unknown> {
    return this.call({ op: 'destroyDevice' }).done;
  }

  private receive(reply: Reply): void {
    if ('deviceLost' in reply) {
      // Work queued on a lost device never completes: start over on the CPU at once.
      const why = `the WebGPU device was lost (${reply.deviceLost}); sampling moved to the CPU`;
      this.preferWebgpu = false;
      this.restart(why);
      this.onBackendChange?.(why);
      return;
    }
    const p = this.pending.get(reply.id);
    if (!p) return;
    if ('progress' in reply) {
      p.onProgress?.(...reply.progress);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.ok) {
      this.faults = 0;
      p.resolve(reply.result);
    } else if (reply.fatal) {
      p.reject(new Error(reply.error));
      this.restart(`the sampler restarted after an internal error: ${reply.error}`);
    } else p.reject(new Error(reply.error));
  }

  private failAll(message: string): void {
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
