// The playground's ONNX path against onnxruntime-web alone on the same file, in Debian's Chromium
// (headless; WebGPU is SwiftShader here, a CPU emulation), and the time to the first sample after
// opening the MNIST ONNX export against the shipped .gsw model. Needs dist/ (`bash build.sh`).
//
//   node bench/onnx-page-bench.mjs [--reps 7] [--backends cpu,webgpu] [--cpu-batches 1,16]
//        [--cpu-nfe 8] [--webgpu-batches 1] [--webgpu-nfe 3] [--warmup-ms 2000] [--first-sample 5]
//
// Prints two markdown tables and writes bench/out/onnx-page-bench.json.
//
// Method. One static site, bench/out/onnx-site: dist/ as built, the peer page
// (bench/page/onnx-peer.{html,js}) and tests/fixtures/onnx/mnist-unet.onnx as
// fixtures/mnist-unet.onnx (its card in its metadata), served by www/serve.mjs without
// cross-origin isolation, so that both sides run onnxruntime-web on one wasm thread.
// - Ours: the playground itself at `?model=url:fixtures/mnist-unet.onnx&solver=euler&
//   schedule=polynomial:7&nfe=N&batch=B&seed=0&label=cycle&guidance=1` (+ `&backend=cpu` for the
//   CPU rows), which opens the model and draws a first sample. A timed run clicks Generate and
//   takes the milliseconds the page prints in #result: its own wall time of the sampling call
//   (request to the worker, noise, plan, N session.run calls on the feeds the crate builds, the
//   whole trajectory back to the page). Guidance 1, so each evaluation is one run on B rows.
// - Peer: onnx-peer.html on its own page: the same ort build from the site's ort/ folder as the
//   page's worker (ort.wasm.min.mjs on the CPU, ort.min.mjs on WebGPU), the same session options,
//   the same feeds per evaluation (x float32 [B,784], sigma float32 [B,1], class float32 [B,11]
//   one-hot of 0..9 in turn), and Euler in JS on the polynomial rho-7 schedule over [0.002, 80]:
//   N session.run calls, timed from the first to the last update. The headline peer runs on its
//   page's main thread; a second one runs in a dedicated module worker (`?in=worker`, timed inside
//   the worker), as the page's runtime does, to tell the thread's cost from the page's plumbing.
// - All warm: the page has drawn its first sample and each peer has run once; then they alternate
//   for --warmup-ms (at least one run each: V8 optimizes the wasm while it runs), then --reps
//   rounds alternate run by run so that the machine's drift falls on both. ms per NFE = run time
//   / N; medians, and the median of the pairwise ratios ours / peer.
// - The share inside session.run: the harness wraps InferenceSession.prototype.run in the page's
//   worker (Playwright's worker.evaluate imports the module URL the worker imported, so it gets
//   the same module) and sums the time inside it; the peer times its own calls the same way.
// - Check: after the warm-up the peer runs from the page's last x_T and sigmas (window.last);
//   every D and the samples must agree (max |difference|; the page's Euler runs in f64, the
//   peer's in f32). The peer's own schedule is checked against the page's sigmas too.
// - Time to first sample: a fresh browser context (empty cache) per load, the ONNX export
//   (`?model=url:fixtures/mnist-unet.onnx&backend=cpu&batch=20&nfe=10`) and the shipped .gsw
//   (`?model=mnist&backend=cpu&batch=20&nfe=10`) alternating; both at the page's defaults
//   otherwise (iPNDM, classes in turn, guidance 2, so 40 rows per evaluation). Navigation start ->
//   the page's user timings (backend ready, first evaluation issued, sample drawn) and the
//   sampling wall time the page prints; medians. The .gsw splits its batch over the CPU workers
//   (one per core); an ONNX model runs in the page's one worker.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { serve } from '../www/serve.mjs';

const { values: opt } = parseArgs({
  options: {
    reps: { type: 'string', default: '7' },
    backends: { type: 'string', default: 'cpu,webgpu' },
    'cpu-batches': { type: 'string', default: '1,16' },
    'cpu-nfe': { type: 'string', default: '8' },
    // SwiftShader takes 1-3 s per U-Net evaluation at batch 1: few rows, few steps.
    'webgpu-batches': { type: 'string', default: '1' },
    'webgpu-nfe': { type: 'string', default: '3' },
    'warmup-ms': { type: 'string', default: '2000' },
    'first-sample': { type: 'string', default: '5' },
  },
});
const reps = Number(opt.reps);
const WARMUP_MS = Number(opt['warmup-ms']);
const PLAN = {
  cpu: { batches: opt['cpu-batches'].split(',').filter(Boolean).map(Number), nfe: Number(opt['cpu-nfe']) },
  webgpu: { batches: opt['webgpu-batches'].split(',').filter(Boolean).map(Number), nfe: Number(opt['webgpu-nfe']) },
};
const ONNX = 'fixtures/mnist-unet.onnx';
const LONG = 600_000; // a page's first sample on SwiftShader compiles every shader in the emulator
const FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu',
  // Two pages take turns; the idle one must not slow the other's timers when it runs again.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'];

const site = 'bench/out/onnx-site';
rmSync(site, { recursive: true, force: true });
// Timestamps kept: serve.mjs sends a .br/.gz sibling only when it is not older than its file.
// dist/fixtures is left out: the browser tests put it there while they run.
cpSync('dist', site, { recursive: true, preserveTimestamps: true, filter: (src) => !/^dist\/fixtures(\/|$)/.test(src) });
for (const f of ['onnx-peer.html', 'onnx-peer.js']) cpSync(`bench/page/${f}`, `${site}/${f}`);
mkdirSync(`${site}/fixtures`);
cpSync('tests/fixtures/onnx/mnist-unet.onnx', `${site}/${ONNX}`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const started = Date.now();
const server = await serve(site);
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: FLAGS });
const out = { date: new Date().toISOString(), chromium: browser.version(), reps, warmupMs: WARMUP_MS, speed: [], firstSample: [] };

async function newPage(context = browser) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`page console: ${m.text()}`));
  return page;
}

/** Waits for the playground's sample (or its error) and returns #result's text. */
async function sampled(page) {
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: LONG });
  const text = await page.textContent('#result');
  if ((await page.getAttribute('body', 'data-state')) !== 'ready') throw new Error(`playground: ${text}`);
  return text;
}

const pageMs = (text) => Number(/ in (\d+) ms$/.exec(text)?.[1] ?? NaN);

/** What the page says the ONNX model runs on ("onnxruntime-web, wasm (CPU)" or "..., WebGPU"). */
const runsOn = (page) => page.evaluate(() => document.querySelector('#model-info')?.textContent.match(/onnxruntime-web, (WebGPU|wasm \(CPU\))/)?.[1] ?? 'unknown');

/** Clicks Generate and waits until the page has sampled again: #result's text, and click to
 * ready as seen in the page (the grid, strip, plots and orbit drawn besides). */
const resample = (page) => page.evaluate(() => new Promise((resolve, reject) => {
  const body = document.body;
  let began = false;
  const t0 = performance.now();
  const check = () => {
    const state = body.dataset.state;
    if (state === 'sampling' || state === 'loading') began = true;
    else if (began && (state === 'ready' || state === 'error')) {
      observer.disconnect();
      const text = document.querySelector('#result').textContent;
      if (state === 'error') reject(new Error(text));
      else resolve({ text, clickMs: performance.now() - t0 });
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(body, { attributes: true, attributeFilter: ['data-state'] });
  document.querySelector('button[type="submit"]').click();
  check();
}));

/** Wraps session.run in the page's worker to sum the time inside it; undefined where the
 * worker cannot be reached. */
async function timeSessionRuns(page) {
  const backend = await page.getAttribute('body', 'data-backend');
  const url = `${base}ort/${backend === 'webgpu' ? 'ort.min.mjs' : 'ort.wasm.min.mjs'}`; // as www/onnx-runtime.ts picks
  const worker = page.workers().find((w) => w.url().endsWith('/worker.js'));
  if (!worker) return undefined;
  await worker.evaluate(async (url) => {
    const { InferenceSession } = await import(url);
    const proto = InferenceSession.prototype;
    if (proto.benchRun) return;
    self.benchSession = { runs: 0, ms: 0 };
    proto.benchRun = proto.run;
    proto.run = async function (...args) {
      const t0 = performance.now();
      try {
        return await this.benchRun(...args);
      } finally {
        self.benchSession.ms += performance.now() - t0;
        self.benchSession.runs++;
      }
    };
  }, url);
  return worker;
}
const takeSessionTime = (worker) => worker?.evaluate(() => {
  const t = { ...self.benchSession };
  Object.assign(self.benchSession, { runs: 0, ms: 0 });
  return t;
});

try {
  for (const backend of opt.backends.split(',').filter(Boolean)) {
    const { batches, nfe } = PLAN[backend];
    for (const batch of batches) {
      const query = `model=url:${ONNX}&solver=euler&schedule=polynomial:7&nfe=${nfe}&batch=${batch}&seed=0&label=cycle&guidance=1${backend === 'cpu' ? '&backend=cpu' : ''}`;
      const ours = await newPage();
      await ours.goto(`${base}index.html?${query}`);
      const first = await sampled(ours);
      if (!first.includes(`${batch} samples with euler on polynomial:7, NFE ${nfe}, guidance 1`)) throw new Error(`the page sampled something else: ${first}`);
      const oursEp = await runsOn(ours);
      const oursBackend = await ours.getAttribute('body', 'data-backend');
      const worker = await timeSessionRuns(ours).catch((e) => console.error(`session.run not timed in the page's worker: ${e.message}`));
      // The peer on a page's main thread, and in a worker as the page's runtime runs.
      const peers = {};
      for (const where of ['page', 'worker']) {
        const page = await newPage();
        await page.goto(`${base}onnx-peer.html?ep=${backend === 'cpu' ? 'wasm' : 'webgpu'}${where === 'worker' ? '&in=worker' : ''}`);
        await page.waitForSelector('body[data-ready]', { state: 'attached', timeout: LONG });
        const opened = await page.evaluate((path) => window.peer.open(path), ONNX);
        if (opened.fellBack) console.error(`peer (${where}): the WebGPU provider failed (${opened.fellBack}); it runs on wasm`);
        const run = (seed) => page.evaluate(([b, n, s]) => window.peer.run(b, n, s), [batch, nfe, seed]);
        await run(0);
        peers[where] = { page, opened, run };
      }
      const { page: peer, opened, run: peerRun } = peers.page;
      console.error(`${backend} batch ${batch} NFE ${nfe}: page on ${oursBackend}, its ONNX on ${oursEp}; peer on ${opened.ep}; first page sample: ${first}`);

      for (let start = Date.now(), k = 0; k === 0 || Date.now() - start < WARMUP_MS; k++) {
        await resample(ours);
        await peerRun(k);
        await peers.worker.run(k);
      }
      // The same x_T and sigmas through the peer: the same network and the same steps?
      const last = await ours.evaluate(() => {
        const r = window.last;
        return { xT: Array.from(r.steps.subarray(0, r.batch * r.dim)), sigmas: Array.from(r.stepSigmas), samples: Array.from(r.samples), evals: Array.from(r.evals) };
      });
      const same = await peer.evaluate(([b, n, given]) => window.peer.run(b, n, 0, given), [batch, nfe, { xT: last.xT, sigmas: last.sigmas }]);
      const ownSigmas = await peer.evaluate((n) => window.peer.polynomial(n), nfe);
      const check = {
        evals: maxAbs(same.evals, last.evals),
        samples: maxAbs(same.samples, last.samples),
        range: last.samples.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
        sigmas: ownSigmas.length === last.sigmas.length ? Math.max(...ownSigmas.map((s, i) => Math.abs(s - last.sigmas[i]) / last.sigmas[i])) : Infinity,
      };
      console.error(`  check: max |dD| ${check.evals.toExponential(2)}, samples ${check.samples.toExponential(2)} (range ${check.range.toFixed(2)}), schedule rel. diff ${check.sigmas.toExponential(2)}`);
      if (!(check.evals < 1e-3 && check.samples < 1e-3 && check.sigmas < 1e-6)) console.error('  WARNING: the peer does not compute what the page does');

      await takeSessionTime(worker);
      const runs = { ours: [], oursSession: [], oursClick: [], peer: [], peerSession: [], peerWorker: [] };
      for (let k = 0; k < reps; k++) {
        const r = await resample(ours);
        const t = await takeSessionTime(worker);
        runs.ours.push(pageMs(r.text) / nfe);
        runs.oursClick.push(r.clickMs / nfe);
        if (t?.runs === nfe) runs.oursSession.push(t.ms / pageMs(r.text));
        const p = await peerRun(k + 1);
        runs.peer.push(p.ms / nfe);
        runs.peerSession.push(p.runMs / p.ms);
        runs.peerWorker.push((await peers.worker.run(k + 1)).ms / nfe);
      }
      const row = {
        backend, oursOn: `${oursBackend} page, ${oursEp}`, peerOn: opened.ep, peerWorkerOn: peers.worker.opened.ep, batch, nfe,
        ours: median(runs.ours), peer: median(runs.peer), ratio: median(runs.ours.map((o, k) => o / runs.peer[k])),
        peerWorker: median(runs.peerWorker), ratioWorker: median(runs.ours.map((o, k) => o / runs.peerWorker[k])),
        oursClick: median(runs.oursClick),
        oursSessionShare: runs.oursSession.length === reps ? median(runs.oursSession) : undefined,
        peerSessionShare: median(runs.peerSession),
        check, runs,
      };
      out.speed.push(row);
      const share = row.oursSessionShare === undefined ? 'n/a' : `${(100 * row.oursSessionShare).toFixed(0)} %`;
      console.error(`  ours ${row.ours.toFixed(1)} ms/NFE (click to ready ${row.oursClick.toFixed(1)}), peer ${row.peer.toFixed(1)} (in a worker ${row.peerWorker.toFixed(1)}); ours / peer ${row.ratio.toFixed(2)} (${row.ratioWorker.toFixed(2)}); in session.run: ours ${share}, peer ${(100 * row.peerSessionShare).toFixed(0)} %`);
      await ours.close();
      for (const p of Object.values(peers)) await p.page.close();
    }
  }

  // Time to first sample, fresh contexts, the two models alternating.
  const loads = { onnx: [], gsw: [] };
  const QUERY = { onnx: `model=url:${ONNX}&backend=cpu&batch=20&nfe=10`, gsw: 'model=mnist&backend=cpu&batch=20&nfe=10' };
  for (let k = 0; k < Number(opt['first-sample']); k++) {
    for (const which of ['onnx', 'gsw']) {
      const context = await browser.newContext();
      try {
        const page = await newPage(context);
        await page.goto(`${base}index.html?${QUERY[which]}`);
        const text = await sampled(page);
        const marks = await page.evaluate(() => Object.fromEntries(['backend-ready', 'first-evaluation', 'sample-drawn'].map((m) => [m, performance.getEntriesByName(`gits:${m}`)[0]?.startTime])));
        loads[which].push({ ...marks, pageMs: pageMs(text), text });
        console.error(`first sample (${which}, round ${k + 1}): drawn at ${marks['sample-drawn'].toFixed(0)} ms; ${text}`);
      } finally {
        await context.close();
      }
    }
  }
  for (const which of ['onnx', 'gsw']) {
    if (loads[which].length === 0) continue;
    const m = (key) => median(loads[which].map((l) => l[key]));
    out.firstSample.push({ which, query: QUERY[which], backendReady: m('backend-ready'), firstEvaluation: m('first-evaluation'), drawn: m('sample-drawn'), pageMs: m('pageMs'), loads: loads[which] });
  }
} finally {
  await browser.close();
  server.close();
}
out.wallS = (Date.now() - started) / 1000;

mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/onnx-page-bench.json', JSON.stringify(out, null, 2));
const pct = (v) => (v === undefined ? 'n/a' : `${(100 * v).toFixed(0)} %`);
console.log('| backend | runs on (ours / peer) | batch | NFE | ours ms/NFE | peer ms/NFE (page thread / worker) | ours / peer (page thread / worker) | in session.run (ours / peer) | max abs. diff (D / samples) |');
console.log('|---|---|---:|---:|---:|---:|---:|---|---|');
for (const r of out.speed) {
  console.log(`| ${r.backend} | ${r.oursOn} / ${r.peerOn} | ${r.batch} | ${r.nfe} | ${r.ours.toFixed(1)} | ${r.peer.toFixed(1)} / ${r.peerWorker.toFixed(1)} | **${r.ratio.toFixed(2)}** / ${r.ratioWorker.toFixed(2)} | ${pct(r.oursSessionShare)} / ${pct(r.peerSessionShare)} | ${r.check.evals.toExponential(1)} / ${r.check.samples.toExponential(1)} |`);
}
const NAME = { onnx: `ONNX export (${ONNX})`, gsw: 'shipped .gsw (models/mnist-unet.int8.gsw)' };
console.log('\n| model (CPU, 20 digits, guidance 2, iPNDM, NFE 10) | backend ready | first evaluation | sample drawn | sampling (page-reported) |');
console.log('|---|---:|---:|---:|---:|');
for (const f of out.firstSample) console.log(`| ${NAME[f.which]} | ${f.backendReady.toFixed(0)} ms | ${f.firstEvaluation.toFixed(0)} ms | ${f.drawn.toFixed(0)} ms | ${f.pageMs.toFixed(0)} ms |`);
console.log(`\n(${out.chromium}; ${reps} rounds per row; wall time ${out.wallS.toFixed(0)} s)`);
