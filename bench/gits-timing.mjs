// GITS wall time by stage (warmup trajectories, cost matrix, dynamic programming), natively (the
// release CLI) and in headless Chromium (the wasm GitsSearch), with the paper's settings: iPNDM
// teacher on a 61-point polynomial grid (60 NFE), l2 costs, gamma 1.15.
// - toy: the 2-D Gaussian mixture (analytic, f64), 256 warmup trajectories, budgets 1..20;
//   medians of RUNS runs after one warm-up run.
// - MNIST: the shipped int8 U-Net, 256 warmup trajectories, budgets 1..10, one run each (a run
//   takes minutes); in the browser on the CPU-wasm fallback, and on WebGPU (SwiftShader, a CPU
//   emulation here) with WEBGPU_WARMUP trajectories only. The browser's grid indices are
//   compared with the native search's.
// Usage: bash build.sh && node bench/gits-timing.mjs   (writes its section of bench/RESULTS.md)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../www/serve.mjs';

const RUNS = 5;
const WEBGPU_WARMUP = Number(process.env.WEBGPU_WARMUP ?? 4);
const TOY = 'models/eight-gaussians.gmm.json';
const MNIST = 'models/mnist-unet.int8.gsw';
const PAPER = { teacher: 'ipndm', grid: 'polynomial:61', warmup: 256, seed: 0, metric: 'l2', gammas: [1.15], minSteps: 1, maxSteps: 20 };
const MNIST_OPTIONS = { ...PAPER, maxSteps: 10 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tmp = mkdtempSync(join(tmpdir(), 'gits-bench-'));

execFileSync('cargo', ['build', '--quiet', '--release', '--bin', 'gits-sampler'], { stdio: 'inherit' });

/** `runs` timed native searches (after one untimed one when runs > 1); returns the files. */
function native(model, options, runs) {
  const files = [];
  for (let i = runs > 1 ? 0 : 1; i <= runs; i++) {
    const out = join(tmp, `n${i}.json`);
    const args = ['gits', '--model', model, '--warmup', `${options.warmup}`, '--grid', options.grid, '--seed', `${options.seed}`, '--gamma', options.gammas.join(','), '--nfe', `${options.minSteps}..${options.maxSteps}`, '--out', out];
    execFileSync('cargo', ['run', '--quiet', '--release', '--bin', 'gits-sampler', '--', ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    if (i > 0) files.push(JSON.parse(readFileSync(out, 'utf8')));
  }
  return files;
}

/** `runs` timed searches in a fresh Chromium page (after one untimed one when runs > 1). */
async function browser({ webgpu, model, options, runs }) {
  const server = await serve('dist');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', webgpu ? '--enable-unsafe-webgpu' : '--disable-webgpu'],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    await page.goto(`http://127.0.0.1:${server.address().port}/${webgpu ? '' : '?backend=cpu'}`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 180_000 });
    return await page.evaluate(
      async ({ webgpu, model, options, runs }) => {
        const m = await import(webgpu ? './pkg/gits_sampler_webgpu.js' : './pkg/gits_sampler_cpu.js');
        await m.default();
        const sampler = webgpu ? await m.Sampler.webgpu() : m.Sampler.cpu('asked for by the benchmark');
        if ((sampler.backend === 'webgpu') !== webgpu) throw new Error(`wanted ${webgpu ? 'WebGPU' : 'the CPU'}, got ${sampler.description}`);
        const loaded = sampler.loadModel(new Uint8Array(await (await fetch(model)).arrayBuffer()), model);
        const files = [];
        for (let i = runs > 1 ? 0 : 1; i <= runs; i++) {
          const s = new m.GitsSearch(loaded, options);
          while (!(await s.step())) {}
          const file = JSON.parse(await s.finish());
          s.free();
          if (i > 0) files.push(file);
        }
        return files;
      },
      { webgpu, model, options, runs },
    );
  } finally {
    await browser.close();
    server.close();
  }
}

const same = (a, b) => JSON.stringify(a.schedules.map((f) => f.indices)) === JSON.stringify(b.schedules.map((f) => f.indices));
const secs = (files, key) => median(files.map((f) => f.timing[key]));
const ms = (v) => `${(v * 1000).toFixed(2)} ms`;
const s = (v) => (v >= 1 ? `${v.toFixed(1)} s` : ms(v));
const row = (name, files, fmt) => `| ${name} | ${fmt(secs(files, 'warmup_s'))} | ${fmt(secs(files, 'cost_matrix_s'))} | ${fmt(secs(files, 'dp_s'))} |`;

const toyNative = native(`gmm:${TOY}`, PAPER, RUNS);
const toyWasm = await browser({ webgpu: false, model: TOY, options: PAPER, runs: RUNS });
console.log('toy done');
const mnistNative = native(MNIST, MNIST_OPTIONS, 1);
console.log(`MNIST native: ${JSON.stringify(mnistNative[0].timing)}`);
const mnistWasm = await browser({ webgpu: false, model: MNIST, options: { ...MNIST_OPTIONS, chunk: 8 }, runs: 1 });
console.log(`MNIST CPU-wasm: ${JSON.stringify(mnistWasm[0].timing)}`);
const small = { ...MNIST_OPTIONS, warmup: WEBGPU_WARMUP, chunk: WEBGPU_WARMUP };
const mnistGpu = await browser({ webgpu: true, model: MNIST, options: small, runs: 1 });
const smallNative = native(MNIST, small, 1);
console.log(`MNIST WebGPU: ${JSON.stringify(mnistGpu[0].timing)}`);

const header = ['| where | warmup trajectories | cost matrix | dynamic programming |', '|---|---:|---:|---:|'];
const perTrajectory = (files, n) => `${(secs(files, 'warmup_s') / n).toFixed(2)} s`;
const section = `## GITS wall time by stage

Regenerate: \`bash build.sh && node bench/gits-timing.mjs\` (about 20 minutes here). Settings as the
paper's: iPNDM teacher on a 61-point polynomial grid (60 NFE), l2 Euler-jump costs, gamma 1.15,
seed 0. Machine: 2 shared cores, no GPU; Chromium headless (Debian package), WebGPU through
SwiftShader. Browser timings come from \`performance.now()\` (coarsened by Chromium without
cross-origin isolation). The paper's CIFAR-10 numbers on an A100, for scale: 27.5 s, 5.3 s and
0.015 s (Table 4).

### Toy model (2-D Gaussian mixture, analytic denoiser in f64)

256 warmup trajectories, budgets 1..20; medians of ${RUNS} runs after one warm-up run.

${[...header, row('native CLI (release)', toyNative, ms), row('browser, wasm (CPU)', toyWasm, ms)].join('\n')}

### MNIST (shipped int8 U-Net, f32 on burn)

256 warmup trajectories x 60 NFE = 15,360 single-digit network evaluations, budgets 1..10; one run each
(runs take minutes). The browser searches on the CPU fallback (burn flex in wasm, single thread)
in chunks of 8 trajectories; on WebGPU only ${WEBGPU_WARMUP} trajectories, since SwiftShader emulates the
GPU on the same two cores (a correctness check here, not a GPU timing).

${[
  ...header,
  row('native CLI (release, burn flex)', mnistNative, s),
  row(`browser, CPU-wasm (grid indices ${same(mnistWasm[0], mnistNative[0]) ? 'equal to' : 'DIFFERENT from'} native)`, mnistWasm, s),
  row(`browser, WebGPU (SwiftShader), ${WEBGPU_WARMUP} trajectories (grid indices ${same(mnistGpu[0], smallNative[0]) ? 'equal to' : 'DIFFERENT from'} native's)`, mnistGpu, s),
].join('\n')}

Per warmup trajectory: native ${perTrajectory(mnistNative, 256)}, CPU-wasm ${perTrajectory(mnistWasm, 256)} (${(secs(mnistWasm, 'warmup_s') / secs(mnistNative, 'warmup_s')).toFixed(1)}x native),
SwiftShader ${perTrajectory(mnistGpu, WEBGPU_WARMUP)}. The warmup is all network evaluations; the cost
matrix and the DP are negligible beside it, as in the paper.
`;
const path = 'bench/RESULTS.md';
const begin = '<!-- gits-timing:begin -->';
const end = '<!-- gits-timing:end -->';
let text = readFileSync(path, 'utf8');
if (!text.includes(begin)) text += `\n${begin}\n${end}\n`;
text = text.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), `${begin}\n${section}${end}`);
writeFileSync(path, text);
console.log(section);
