// The peer of bench/onnx-page-bench.mjs: onnxruntime-web alone on the same ONNX file as the
// page, in the loop a user would write by hand: one session.run per Euler step, the update in JS.
// It loads the build the page's worker loads (the WebGPU one for `?ep=webgpu`, else the wasm-only
// one) from the site's ort/ folder with the worker's settings, so that only the plumbing differs.
// It runs on the page's main thread, or with `?in=worker` in a dedicated worker as the page's
// runtime does (this same file, started as a module worker; window.peer forwards to it).
// The harness calls window.peer.* and times through what they return.
const params = new URLSearchParams(location.search);
const wantWebgpu = params.get('ep') === 'webgpu';
let ort;

/** onnxruntime-web, set up as www/onnx-runtime.ts sets it up. */
async function load() {
  const folder = new URL('./ort/', import.meta.url).href;
  ort = await import(`${folder}${wantWebgpu ? 'ort.min.mjs' : 'ort.wasm.min.mjs'}`);
  ort.env.wasm.wasmPaths = folder;
  // Wasm threads only where the page is cross-origin isolated.
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  ort.env.logLevel = 'error';
}

// The MNIST export's interface (its card, tests/fixtures/onnx/README.md): x float [batch, 784],
// sigma float [batch, 1] (EDM sigma), class float [batch, 11] one-hot (10 = unconditional);
// output "denoised" is D(x; sigma) itself.
const DIM = 784;
const CLASSES = 10;
const [SIGMA_MIN, SIGMA_MAX, RHO] = [0.002, 80, 7];

let session;
let ep;

/** The polynomial (Karras) schedule, n + 1 sigmas from SIGMA_MAX down to SIGMA_MIN. */
function polynomial(n) {
  const [a, b] = [SIGMA_MAX ** (1 / RHO), SIGMA_MIN ** (1 / RHO)];
  return Array.from({ length: n + 1 }, (_, i) => (a + (i / n) * (b - a)) ** RHO);
}

/** Standard normal noise from `seed` (mulberry32 + Box-Muller): any noise times the same. */
function normal(count, seed) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  return Float32Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}

const peer = {
  /** Fetches `path` and opens a session on it with the options the page uses (the page falls back
   * to wasm when the WebGPU provider fails; so does this). */
  async open(path) {
    const t0 = performance.now();
    await load();
    const bytes = new Uint8Array(await (await fetch(path)).arrayBuffer());
    const options = (provider) => ({ executionProviders: [provider], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    ep = wantWebgpu ? 'webgpu' : 'wasm';
    let fellBack;
    try {
      session = await ort.InferenceSession.create(bytes, options(ep));
    } catch (e) {
      if (ep !== 'webgpu') throw e;
      fellBack = e instanceof Error ? e.message : String(e);
      ep = 'wasm';
      session = await ort.InferenceSession.create(bytes, options(ep));
    }
    return { ep, fellBack, ms: performance.now() - t0, inputs: session.inputNames, outputs: session.outputNames, version: ort.env.versions };
  },

  /** Euler from x_T = z sigma_0 over `nfe` steps, classes 0..9 in turn, guidance 1: `nfe`
   * session.run calls. `given` ({ xT, sigmas }) replaces the noise and the schedule (the
   * numerical check feeds the page's own); then the samples and every D come back too. */
  async run(batch, nfe, seed = 0, given) {
    const sigmas = given?.sigmas ?? polynomial(nfe);
    const x = given ? Float32Array.from(given.xT) : normal(batch * DIM, seed).map((z) => z * sigmas[0]);
    const onehot = new Float32Array(batch * (CLASSES + 1));
    for (let i = 0; i < batch; i++) onehot[i * (CLASSES + 1) + (i % CLASSES)] = 1;
    const sigma = new Float32Array(batch);
    const evals = [];
    let runMs = 0;
    const t0 = performance.now();
    for (let i = 0; i < nfe; i++) {
      const s = sigmas[i];
      // New tensors per step, as the page builds them (the class one could be kept; it is tiny).
      const feeds = {
        x: new ort.Tensor('float32', x, [batch, DIM]),
        sigma: new ort.Tensor('float32', sigma.fill(s), [batch, 1]),
        class: new ort.Tensor('float32', onehot, [batch, CLASSES + 1]),
      };
      const t1 = performance.now();
      const d = (await session.run(feeds)).denoised.data;
      runMs += performance.now() - t1;
      const h = (sigmas[i + 1] - s) / s; // x += (s' - s) (x - D) / s
      for (let j = 0; j < x.length; j++) x[j] += h * (x[j] - d[j]);
      if (given) for (const v of d) evals.push(v);
    }
    const ms = performance.now() - t0;
    return given ? { ms, runMs, samples: Array.from(x), evals, sigmas } : { ms, runMs };
  },

  polynomial,
};

if (typeof document === 'undefined') {
  // In the worker: run what the page asks.
  self.onmessage = async ({ data: { id, method, args } }) => {
    try {
      self.postMessage({ id, value: await peer[method](...args) });
    } catch (e) {
      self.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
    }
  };
} else if (params.get('in') === 'worker') {
  const url = new URL(import.meta.url);
  url.search = location.search; // the worker reads ?ep= too
  const worker = new Worker(url, { type: 'module' });
  const waiting = new Map();
  let next = 0;
  worker.onmessage = ({ data: { id, value, error } }) => {
    const [resolve, reject] = waiting.get(id);
    waiting.delete(id);
    if (error === undefined) resolve(value);
    else reject(new Error(error));
  };
  const call = (method) => (...args) => new Promise((resolve, reject) => {
    waiting.set(++next, [resolve, reject]);
    worker.postMessage({ id: next, method, args });
  });
  window.peer = { open: call('open'), run: call('run'), polynomial };
  document.body.dataset.ready = 'yes';
} else {
  window.peer = peer;
  document.body.dataset.ready = 'yes';
}
