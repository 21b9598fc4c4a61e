// Speed and size as a user meets them, in Debian's Chromium (headless, SwiftShader for WebGPU
// here): gits-sampler against onnxruntime-web running the same U-Net (exported by
// bench/export_onnx.py and checked against our outputs first), per backend and batch; time to
// first sample in the playground; download sizes. Needs `bash build.sh` and the ONNX file:
//
//   python3 bench/export_onnx.py models/mnist-unet.int8.gsw bench/out/mnist-unet.onnx
//   node bench/browser-bench.mjs [--reps 5] [--nfe 4] [--batches 1,16,64] [--backends cpu,webgpu]
//                                [--first-sample 5] [--cold 3] [--split 16,64]
//
// Prints a table and writes bench/out/browser-bench.json.
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { ISOLATION, serve } from '../www/serve.mjs';

const { values: opt } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    nfe: { type: 'string', default: '4' },
    batches: { type: 'string', default: '1,16,64' },
    backends: { type: 'string', default: 'cpu,webgpu' },
    'first-sample': { type: 'string', default: '5' },
    cold: { type: 'string', default: '3' },
    split: { type: 'string', default: '16,64' },
  },
});
const reps = Number(opt.reps);
const nfe = Number(opt.nfe);
const batches = opt.batches.split(',').map(Number);
const backends = opt.backends.split(',');
const PEER_EP = { cpu: 'wasm', webgpu: 'webgpu' };
const [COLD_BATCH, COLD_NFE] = [40, 10];
const FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'];

// One static site: dist/ (the product), the benchmark page, the ONNX file, onnxruntime-web.
const site = 'bench/out/site';
rmSync(site, { recursive: true, force: true });
cpSync('dist', site, { recursive: true });
cpSync('bench/page', site, { recursive: true });
cpSync('bench/out/mnist-unet.onnx', `${site}/mnist-unet.onnx`);
mkdirSync(`${site}/ort`);
for (const f of ['ort.all.min.mjs', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm']) cpSync(`node_modules/onnxruntime-web/dist/${f}`, `${site}/ort/${f}`);

const brotli = (bytes) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const size = (path) => ({ path, raw: statSync(path).size, gzip: gzipSync(readFileSync(path), { level: 9 }).length, brotli: brotli(readFileSync(path)) });
const sizes = [
  size('dist/pkg/gits_sampler_webgpu_bg.wasm'),
  size('dist/pkg/gits_sampler_cpu_bg.wasm'),
  size('dist/app.js'),
  size('dist/worker.js'),
  size('models/mnist-unet.int8.gsw'),
  size('models/mnist-unet.f32.gsw'),
  size('bench/out/mnist-unet.onnx'),
  size('node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm'),
  size('node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'),
];

const server = await serve(site);
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: FLAGS });
const out = { date: new Date().toISOString(), chromium: browser.version(), reps, nfe, sizes, checks: [], speed: [], split: [], firstSample: [], cold: [] };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const BENCH_READY = ['body[data-ready]', { state: 'attached' }];
/** Opens `path` in a fresh browser context (empty cache), waits for `ready` (a selector and its
 * options) and returns what `fn(page)` gives. */
async function inFreshContext(path, ready, fn) {
  const context = await browser.newContext();
  try {
    const p = await context.newPage();
    await p.goto(`${base}${path}`);
    await p.waitForSelector(...ready);
    return await fn(p);
  } finally {
    await context.close();
  }
}
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`page console: ${m.text()}`));
  await page.goto(`${base}bench.html`);
  await page.waitForSelector(...BENCH_READY);
  out.versions = await page.evaluate(() => window.bench.describe());
  for (const backend of backends) {
    // The peer must be the same network: same x_T, same Euler steps, D(x) and samples agree.
    const check = await page.evaluate(([b, ep]) => window.bench.check(b, ep, 4, 10), [backend, PEER_EP[backend]]);
    out.checks.push({ backend, peer: PEER_EP[backend], ...check });
    console.error(`check ${backend} vs onnxruntime ${PEER_EP[backend]}: max |dD| first eval ${check.firstEval.toExponential(2)}, all evals ${check.allEvals.toExponential(2)}, samples ${check.samples.toExponential(2)} (range ${check.range.toFixed(2)})`);
    if (!(check.xT < 1e-4 && check.allEvals < 1e-3 && check.samples < 1e-3)) throw new Error(`the peer does not compute the same network on ${backend}: ${JSON.stringify(check)}`);
    for (const batch of batches) {
      const { ours, peer, ratio } = await page.evaluate((a) => window.bench.pair(...a), [backend, PEER_EP[backend], batch, nfe, reps]);
      const row = { backend, batch, oursMsPerNfe: ours.median, peerMsPerNfe: peer.median, ratio, ours: ours.all, peer: peer.all };
      out.speed.push(row);
      console.error(`${backend} batch ${batch}: ours ${ours.median.toFixed(1)} ms/NFE, onnxruntime ${peer.median.toFixed(1)} ms/NFE, ratio ${row.ratio.toFixed(2)}`);
    }
  }
  // The page's CPU split against the peer: the playground's own engine (`window.engine`, one
  // worker and `workers - 1` helpers, each a CPU wasm instance) samples Euler batches as the
  // speed rows do; the peer runs single-threaded on a plain page and with one thread per core on
  // a cross-origin isolated one (served with COOP/COEP; the playground runs there too). One
  // worker, all workers and the peer alternate run by run after a 2 s warm-up each.
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const isolatedServer = await serve(site, 0, ISOLATION);
  const isolatedBase = `http://127.0.0.1:${isolatedServer.address().port}/`;
  try {
    for (const [isolated, threads] of [[false, 1], [true, cores]]) {
      if (!opt.split || !backends.includes('cpu')) break;
      const at = isolated ? isolatedBase : base;
      const playground = await browser.newPage();
      await playground.goto(`${at}index.html?model=mnist&backend=cpu&batch=1&nfe=2`);
      await playground.waitForSelector('body[data-state="ready"]', { timeout: 300_000 });
      const peerPage = await browser.newPage();
      await peerPage.goto(`${at}bench.html?threads=${threads}`);
      await peerPage.waitForSelector(...BENCH_READY);
      const isolation = await playground.evaluate(() => crossOriginIsolated);
      if (isolation !== isolated) throw new Error(`the playground is${isolation ? '' : ' not'} cross-origin isolated`);
      const oursMs = (batch, workers, seed) => playground.evaluate(async ([batch, nfe, workers, seed]) => {
        window.engine.workers = workers;
        const t0 = performance.now();
        await window.engine.sample({ model: 'models/mnist-unet.int8.gsw', plan: { solver: 'euler', schedule: 'polynomial:7', nfe }, seed, batch, label: 'cycle', guidance: 1 });
        return performance.now() - t0;
      }, [batch, nfe, workers, seed]);
      const peerMs = (batch) => peerPage.evaluate((a) => window.bench.peerMs(...a), ['wasm', batch, nfe]);
      for (const batch of opt.split.split(',').map(Number)) {
        for (const start = Date.now(); Date.now() - start < 2000; ) {
          await oursMs(batch, 1, 0);
          await oursMs(batch, cores, 0);
          await peerMs(batch);
        }
        const runs = { one: [], all: [], peer: [] };
        for (let k = 0; k < reps; k++) {
          runs.one.push((await oursMs(batch, 1, k + 1)) / nfe);
          runs.all.push((await oursMs(batch, cores, k + 1)) / nfe);
          runs.peer.push((await peerMs(batch)) / nfe);
        }
        const ratio = (a, b) => median(a.map((v, k) => v / b[k]));
        const row = { isolated, threads, workers: cores, batch, one: median(runs.one), all: median(runs.all), peer: median(runs.peer), allOverPeer: ratio(runs.all, runs.peer), oneOverPeer: ratio(runs.one, runs.peer), allOverOne: ratio(runs.all, runs.one), runs };
        out.split.push(row);
        console.error(`split (${isolated ? `isolated, peer ${threads} threads` : 'not isolated, peer 1 thread'}) batch ${batch}: ours ${cores} workers ${row.all.toFixed(1)} ms/NFE, 1 worker ${row.one.toFixed(1)}, peer ${row.peer.toFixed(1)}; ours/peer ${row.allOverPeer.toFixed(2)}, ${cores} workers / 1 ${row.allOverOne.toFixed(2)}`);
      }
      await playground.close();
      await peerPage.close();
    }
  } finally {
    isolatedServer.close();
  }
  // Time to first sample: a fresh browser context (empty cache) opens the playground on the
  // digits, at its defaults (20 digits) and at one digit; navigation start -> the digit grid
  // drawn, split by the page's user timings (backend ready: wasm fetched and compiled; first
  // evaluation: weights fetched and dequantized, plan, one U-Net call; drawn: the other
  // evaluations and the views).
  for (const backend of backends) {
    for (const [digits, query] of [[1, '&batch=1'], [20, '']]) {
      const loads = [];
      for (let k = 0; k < Number(opt['first-sample']); k++) {
        const url = `index.html?model=mnist${query}${backend === 'cpu' ? '&backend=cpu' : ''}`;
        loads.push(await inFreshContext(url, ['body[data-state="ready"], body[data-state="error"]', { timeout: 300_000 }], async (p) => {
          if ((await p.getAttribute('body', 'data-state')) !== 'ready') throw new Error(`playground: ${await p.textContent('#result')}`);
          return p.evaluate(() => Object.fromEntries(['backend-ready', 'first-evaluation', 'first-rows', 'sample-drawn'].map((m) => [m, performance.getEntriesByName(`gits:${m}`)[0]?.startTime])));
        }));
      }
      if (loads.length === 0) continue; // --first-sample 0
      const phase = (m) => median(loads.map((l) => l[m]));
      const row = { backend, digits, median: phase('sample-drawn'), backendReady: phase('backend-ready'), firstEvaluation: phase('first-evaluation'), firstRows: phase('first-rows'), loads };
      out.firstSample.push(row);
      console.error(`time to first sample (${backend}, ${digits} digits, NFE 10, guidance 2): median ${row.median.toFixed(0)} ms (backend ready ${row.backendReady.toFixed(0)}, first evaluation ${row.firstEvaluation.toFixed(0)}, first rows drawn ${row.firstRows.toFixed(0)}) of ${loads.map((l) => l['sample-drawn'].toFixed(0)).join(', ')}`);
    }
  }
  // The first sampling run of a fresh page, ours and the peer alternating, each in its own
  // fresh context: the default grid's work (20 digits, guidance doubles the batch: 40 rows, NFE
  // 10) before V8 has optimized the wasm. Bounds what any library can do for a first sample. CPU
  // only: on SwiftShader it takes many minutes and says nothing about a GPU.
  for (const backend of backends.filter((b) => b === 'cpu' && Number(opt.cold) > 0)) {
    const runs = { ours: [], peer: [] };
    for (let k = 0; k < Number(opt.cold); k++) {
      for (const side of ['ours', 'peer']) {
        const args = [side, backend, PEER_EP[backend], COLD_BATCH, COLD_NFE];
        runs[side].push(await inFreshContext('bench.html', BENCH_READY, (p) => p.evaluate((a) => window.bench.cold(...a), args)));
      }
    }
    const row = { backend, batch: COLD_BATCH, nfe: COLD_NFE, runs };
    for (const side of ['ours', 'peer']) row[side] = { loadMs: median(runs[side].map((r) => r.loadMs)), runMs: median(runs[side].map((r) => r.runMs)) };
    out.cold.push(row);
    console.error(`first run on a fresh page (${backend}, batch ${COLD_BATCH}, NFE ${COLD_NFE}): ours load ${row.ours.loadMs.toFixed(0)} ms + run ${row.ours.runMs.toFixed(0)} ms, onnxruntime load ${row.peer.loadMs.toFixed(0)} ms + run ${row.peer.runMs.toFixed(0)} ms`);
  }
} finally {
  await browser.close();
  server.close();
}

writeFileSync('bench/out/browser-bench.json', JSON.stringify(out, null, 2));
const kb = (b) => `${(b / 1024).toFixed(0)} KiB`;
console.log('| file | raw | gzip | brotli |\n|---|---|---|---|');
for (const s of sizes) console.log(`| ${s.path} | ${kb(s.raw)} | ${kb(s.gzip)} | ${kb(s.brotli)} |`);
console.log(`\n| backend | batch | gits-sampler ms/NFE | onnxruntime-web ms/NFE | ours / peer |\n|---|---|---|---|---|`);
for (const r of out.speed) console.log(`| ${r.backend} | ${r.batch} | ${r.oursMsPerNfe.toFixed(1)} | ${r.peerMsPerNfe.toFixed(1)} | ${r.ratio.toFixed(2)} |`);
console.log(`\n| isolated | peer threads | batch | ours, ${out.split[0]?.workers} workers | ours, 1 worker | peer | ours (all) / peer | all / 1 worker |\n|---|---:|---:|---:|---:|---:|---:|---:|`);
for (const r of out.split) console.log(`| ${r.isolated ? 'yes' : 'no'} | ${r.threads} | ${r.batch} | ${r.all.toFixed(1)} | ${r.one.toFixed(1)} | ${r.peer.toFixed(1)} | ${r.allOverPeer.toFixed(2)} | ${r.allOverOne.toFixed(2)} |`);
console.log(`\n| backend | digits | backend ready | first evaluation | first rows drawn | digits drawn (medians) |\n|---|---|---|---|---|---|`);
for (const f of out.firstSample) console.log(`| ${f.backend} | ${f.digits} | ${f.backendReady.toFixed(0)} ms | ${f.firstEvaluation.toFixed(0)} ms | ${f.firstRows.toFixed(0)} ms | ${f.median.toFixed(0)} ms |`);
console.log(`\n| backend | batch x NFE | ours: load + first run | onnxruntime-web: load + first run (medians, fresh pages) |\n|---|---|---|---|`);
for (const c of out.cold) console.log(`| ${c.backend} | ${c.batch} x ${c.nfe} | ${c.ours.loadMs.toFixed(0)} + ${c.ours.runMs.toFixed(0)} ms | ${c.peer.loadMs.toFixed(0)} + ${c.peer.runMs.toFixed(0)} ms |`);
