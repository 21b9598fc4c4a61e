// The benchmark page: gits-sampler's wasm and onnxruntime-web side by side on the same U-Net
// (bench/export_onnx.py), each sampling with Euler on the same schedule from the same x_T.
// bench/browser-bench.mjs calls window.bench.* and times nothing itself.
import * as ort from './ort/ort.all.min.mjs';

const DIM = 784;
const CLASSES = 10;
ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href;
// Without cross-origin isolation a page has no wasm threads; with it (`?threads=N`, served
// with COOP/COEP) the peer runs N threads.
ort.env.wasm.numThreads = Number(new URLSearchParams(location.search).get('threads') ?? 1);

const modules = {};
const samplers = {};
const sessions = {};

const fetchBytes = async (path) => new Uint8Array(await (await fetch(path)).arrayBuffer());
const WARMUP_MS = 2000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Our wasm module for `backend` (the page's two: WebGPU and CPU). */
async function wasm(backend) {
  modules[backend] ??= (async () => {
    const m = await import(backend === 'webgpu' ? './pkg/gits_sampler_webgpu.js' : './pkg/gits_sampler_cpu.js');
    await m.default();
    return m;
  })();
  return modules[backend];
}

async function ours(backend) {
  samplers[backend] ??= (async () => {
    const m = await wasm(backend);
    const s = backend === 'webgpu' ? await m.Sampler.webgpu() : m.Sampler.cpu('asked for by the benchmark');
    return { m, s, model: s.loadModel(await fetchBytes('models/mnist-unet.int8.gsw'), 'models/mnist-unet.int8.gsw') };
  })();
  return samplers[backend];
}

async function peer(ep) {
  sessions[ep] ??= (async () => ort.InferenceSession.create(await fetchBytes('mnist-unet.onnx'), { executionProviders: [ep] }))();
  return sessions[ep];
}

/** One batch's setting: x_T-making noise, classes 0..9 in turn, the Euler plan. */
function setting(m, model, batch, nfe, seed) {
  const labels = Uint32Array.from({ length: batch }, (_, i) => i % CLASSES);
  const onehot = new Float32Array(batch * (CLASSES + 1));
  labels.forEach((l, i) => { onehot[i * (CLASSES + 1) + l] = 1; });
  const noise = m.standardNormal(BigInt(seed), batch, DIM);
  const plan = model.plan('euler', 'polynomial:7', nfe, false, false);
  const sigmas = JSON.parse(plan.json).sigmas;
  return { labels, onehot, noise, plan, sigmas, xT: Float32Array.from(noise, (z) => z * sigmas[0]) };
}

/** A setting made by the CPU module (the noise and sigmas do not depend on the backend). */
async function cpuSetting(batch, nfe) {
  const { m, model } = await ours('cpu');
  return setting(m, model, batch, nfe, 0);
}

async function runOurs(backend, batch, nfe, seed = 0) {
  const { m, s, model } = await ours(backend);
  const c = setting(m, model, batch, nfe, seed);
  const t0 = performance.now();
  const r = await s.sample(c.plan, model, c.noise, c.labels, 1, BigInt(seed));
  return { ms: performance.now() - t0, r, c };
}

/** The same Euler steps with onnxruntime: x <- x + (s' - s) / s * (x - D(x; s)). */
async function runPeer(ep, batch, sigmas, xT, onehot) {
  const session = await peer(ep);
  const x = Float32Array.from(xT);
  const evals = [];
  const cls = new ort.Tensor('float32', onehot, [batch, CLASSES + 1]);
  const t0 = performance.now();
  for (let i = 0; i + 1 < sigmas.length; i++) {
    const s = sigmas[i];
    const out = await session.run({ x: new ort.Tensor('float32', x, [batch, DIM]), sigma: new ort.Tensor('float32', new Float32Array(batch).fill(s), [batch, 1]), class: cls });
    const d = out.denoised.data;
    const h = (sigmas[i + 1] - s) / s;
    for (let j = 0; j < x.length; j++) x[j] += h * (x[j] - d[j]);
    evals.push(Float32Array.from(d));
  }
  return { ms: performance.now() - t0, x, evals };
}

const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

window.bench = {
  /** Our samples and D(x) against the peer's from the same x_T: the largest differences. */
  async check(backend, ep, batch, nfe) {
    const { r, c } = await runOurs(backend, batch, nfe);
    const per = batch * DIM;
    const p = await runPeer(ep, batch, c.sigmas, c.xT, c.onehot);
    return {
      xT: maxAbs(r.steps.subarray(0, per), c.xT),
      firstEval: maxAbs(r.evals.subarray(0, per), p.evals[0]),
      allEvals: Math.max(...p.evals.map((e, k) => maxAbs(r.evals.subarray(k * per, (k + 1) * per), e))),
      samples: maxAbs(r.samples, p.x),
      range: r.samples.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
    };
  },
  /** ms per NFE for ours and the peer, alternating run by run (so that the machine's drift
   * falls on both) after warming both up: the medians and the run-by-run ratios. */
  async pair(backend, ep, batch, nfe, reps) {
    const c = await cpuSetting(batch, nfe);
    // V8 runs wasm in a baseline tier first and optimizes hot functions while they run: at batch
    // 1 one run was not enough (the first runs took up to 3x the steady state, for both sides).
    for (const start = performance.now(); performance.now() - start < WARMUP_MS; ) {
      await runOurs(backend, batch, nfe);
      await runPeer(ep, batch, c.sigmas, c.xT, c.onehot);
    }
    const ours = [];
    const peer = [];
    for (let k = 0; k < reps; k++) {
      ours.push((await runOurs(backend, batch, nfe, k + 1)).ms / nfe);
      peer.push((await runPeer(ep, batch, c.sigmas, c.xT, c.onehot)).ms / nfe);
    }
    return { ours: { median: median(ours), all: ours }, peer: { median: median(peer), all: peer }, ratio: median(ours.map((o, k) => o / peer[k])) };
  },
  /** On a fresh page: the time to load one side (wasm module and weights, or the peer's wasm and
   * session) and then its first sampling run, before V8 has optimized anything. */
  async cold(side, backend, ep, batch, nfe) {
    const t0 = performance.now();
    if (side === 'ours') await ours(backend);
    else await peer(ep);
    const loadMs = performance.now() - t0;
    if (side === 'ours') return { loadMs, runMs: (await runOurs(backend, batch, nfe)).ms };
    const c = await cpuSetting(batch, nfe); // x_T and the schedule, not timed
    return { loadMs, runMs: (await runPeer(ep, batch, c.sigmas, c.xT, c.onehot)).ms };
  },
  /** One timed peer run of `batch` x `nfe` Euler steps (after the caller's warm-up), in ms. */
  async peerMs(ep, batch, nfe) {
    const c = await cpuSetting(batch, nfe);
    return (await runPeer(ep, batch, c.sigmas, c.xT, c.onehot)).ms;
  },
  async describe() {
    const { s } = await ours('webgpu').catch(() => ({ s: null }));
    return { ours: s?.description ?? 'no WebGPU', ort: ort.env.versions };
  },
};
document.body.dataset.ready = 'yes';
