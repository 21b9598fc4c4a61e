// GITS wall time by stage (warmup trajectories, cost matrix, dynamic programming) for the toy
// model, natively (the CLI) and in headless Chromium (the wasm GitsSearch, f64 on the CPU), with
// the paper's settings: 256 warmup trajectories, iPNDM teacher on a 61-point polynomial grid
// (60 NFE), gamma 1.15, step budgets 1..20. Medians of RUNS runs after one warm-up run.
// Usage: bash build.sh && node bench/gits-timing.mjs   (writes its section of bench/RESULTS.md)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../www/serve.mjs';

const RUNS = 5;
const MODEL = 'models/eight-gaussians.gmm.json';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tmp = mkdtempSync(join(tmpdir(), 'gits-bench-'));

function native() {
  const runs = [];
  for (let i = 0; i <= RUNS; i++) {
    const out = join(tmp, `n${i}.json`);
    execFileSync('cargo', ['run', '--quiet', '--release', '--bin', 'gits-sampler', '--', 'gits', '--model', `gmm:${MODEL}`, '--warmup', '256', '--gamma', '1.15', '--nfe', '1..20', '--out', out], { stdio: ['ignore', 'ignore', 'ignore'] });
    if (i > 0) runs.push(JSON.parse(readFileSync(out, 'utf8')).timing);
  }
  return runs;
}

async function browser(webgpuFlag) {
  const server = await serve('dist');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', webgpuFlag],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 180_000 });
    const model = readFileSync(MODEL, 'utf8');
    return await page.evaluate(
      async ({ model, runs }) => {
        const m = await import('./pkg/gits_sampler.js');
        const out = [];
        for (let i = 0; i <= runs; i++) {
          const s = new m.GitsSearch(model, 'toy', 'ipndm', 'polynomial:61', 256, 0n, 'l2', new Float64Array([1.15]), 1, 20);
          while (!s.step()) {}
          const t = JSON.parse(s.finish()).timing;
          s.free();
          if (i > 0) out.push(t);
        }
        return out;
      },
      { model, runs: RUNS },
    );
  } finally {
    await browser.close();
    server.close();
  }
}

const fmt = (runs, key, unit) => (unit === 'ms' ? `${(median(runs.map((r) => r[key])) * 1000).toFixed(2)} ms` : `${median(runs.map((r) => r[key])).toFixed(3)} s`);
const rows = [
  ['native CLI (release)', native()],
  ['browser, wasm (headless Chromium)', await browser('--enable-unsafe-webgpu')],
];
const table = [
  '| where | warmup trajectories | cost matrix | dynamic programming |',
  '|---|---:|---:|---:|',
  ...rows.map(([name, r]) => `| ${name} | ${fmt(r, 'warmup_s', 'ms')} | ${fmt(r, 'cost_matrix_s', 'ms')} | ${fmt(r, 'dp_s', 'ms')} |`),
].join('\n');
const section = `## GITS wall time by stage (toy model)

Regenerate: \`bash build.sh && node bench/gits-timing.mjs\`. Method: \`models/eight-gaussians.gmm.json\`
(2-D, analytic denoiser), 256 warmup trajectories, iPNDM teacher on a 61-point polynomial grid
(60 NFE), l2 metric, gamma 1.15, budgets 1..20 steps; medians of ${RUNS} runs after one warm-up run,
both in one run of the script on this machine (2 cores). The browser search runs the same Rust code
in f64 on the CPU (wasm), chunk by chunk. The paper's CIFAR-10 numbers on an A100, for scale:
27.5 s, 5.3 s and 0.015 s (Table 4).

${table}

Browser timings come from \`performance.now()\`, which Chromium coarsens without cross-origin
isolation. The in-browser DP time is far above the native one for the same code and is not yet
profiled.
`;
const path = 'bench/RESULTS.md';
const begin = '<!-- gits-timing:begin -->';
const end = '<!-- gits-timing:end -->';
let text = readFileSync(path, 'utf8');
if (!text.includes(begin)) text += `\n${begin}\n${end}\n`;
text = text.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), `${begin}\n${section}${end}`);
writeFileSync(path, text);
console.log(section);
