// Headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser) against dist/:
// the page samples on WebGPU (SwiftShader here), agrees with the native CLI, and falls back to
// the CPU without WebGPU. Run after `bash build.sh` (npm test does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cancelGits, cli, launch, maxAbsDiff, openPage as open, runGits, serveDist } from './harness.mjs';

const MODEL = 'models/eight-gaussians.gmm.json';
const PLAN = 'tests/fixtures/ipndm-10.plan.json';
const NOISE = 'tests/fixtures/noise-64x2.json';
const TOL = 1e-3;
const SOLVERS = ['euler', 'ddim_eta:1', 'heun', 'dpm2', 'ipndm', 'ipndm_v', 'ab_exact', 'deis:3', 'dpmpp:2', 'dpmpp:3', 'unipc_bh1:3', 'unipc_bh2:2', 'rk4', 'euler_ancestral', 'dpm_2_ancestral', 'dpmpp_2s_ancestral', 'dpmpp_sde', 'dpmpp_2m_sde', 'dpmpp_2m_sde_heun:0.5', 'dpmpp_3m_sde', 'euler_churn', 'heun_churn:10:0:100:1'];
const PAGE_TIMEOUT = 180_000;

const tmp = mkdtempSync(join(tmpdir(), 'gits-browser-'));

const site = serveDist();

function openPage(page, query = '') {
  return open(page, site.url + query, PAGE_TIMEOUT);
}

/** Runs the native CLI; returns its final samples as rows. */
function nativeSamples(args) {
  const out = join(tmp, `native-${Math.random().toString(36).slice(2)}.json`);
  cli(['sample', '--denoiser', `gmm:${MODEL}`, '--out', out, ...args]);
  return JSON.parse(readFileSync(out, 'utf8')).samples;
}

/** Samples in the page through the wasm module's own API. */
function browserSamples(page, { noise, seed, batch, webgpu = true }) {
  const plan = readFileSync(PLAN, 'utf8');
  const gmm = readFileSync(MODEL, 'utf8');
  return page.evaluate(
    async ({ plan, gmm, noise, seed, batch, webgpu }) => {
      const { m, sampler } = await openSampler(webgpu);
      const z = noise ? new Float64Array(noise.flat()) : m.standardNormal(BigInt(seed), batch, 2);
      const model = sampler.loadModel(new TextEncoder().encode(gmm), 'gmm');
      const r = await sampler.sample(m.Plan.fromJson(plan), model, z, new Uint32Array(), 1);
      return { backend: sampler.backend, dim: r.dim, samples: Array.from(r.samples), steps: r.stepSigmas.length, evals: r.evalSigmas.length, nfe: r.nfe };
    },
    { plan, gmm, noise, seed, batch, webgpu },
  );
}


test('the page samples on a WebGPU adapter and agrees with the native CLI', { timeout: 600_000 }, async (t) => {
  const { browser, page, errors } = await launch(true);
  try {
    const shown = await openPage(page);
    assert.equal(shown.state, 'ready', `page error: ${shown.result}`);
    assert.equal(shown.backend, 'webgpu', `expected WebGPU, page says: ${shown.status}`);
    assert.match(shown.status, /WebGPU/);
    assert.match(shown.result, /256 samples/);
    const last = await page.evaluate(() => ({ batch: window.last.batch, n: window.last.samples.length }));
    assert.deepEqual(last, { batch: 256, n: 512 });
    // The boomerang view: x_t leaves the line x_T -> x_0 and comes back to it.
    const b = await page.evaluate(() => window.boomerangLast);
    const dev = b.deviation.mean;
    assert.equal(dev.length, b.sigmas.length);
    const scale = b.toEnd.mean[0];
    assert.ok(dev[0] < 1e-6 * scale && dev.at(-1) < 1e-6 * scale, `deviation at the ends: ${dev[0]}, ${dev.at(-1)}`);
    assert.ok(Math.max(...dev) > 1e-3, 'the trajectories bend');
    assert.equal(b.toEnd.mean.at(-1), 0);
    assert.ok(b.toEnd.mean[0] > 10, `x_T is far from x_0: ${b.toEnd.mean[0]}`);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/page-webgpu.png', fullPage: true });

    await t.test('same plan and noise file as the CLI', async () => {
      const noise = JSON.parse(readFileSync(NOISE, 'utf8'));
      const got = await browserSamples(page, { noise });
      assert.equal(got.backend, 'webgpu');
      assert.deepEqual([got.nfe, got.steps, got.evals], [10, 11, 10]);
      const diff = maxAbsDiff(nativeSamples(['--plan', PLAN, '--noise', NOISE]), got.samples);
      console.log(`# WebGPU vs native (noise file): max |diff| = ${diff.toExponential(2)}`);
      assert.ok(diff <= TOL, `max |diff| ${diff} > ${TOL}`);
    });

    await t.test('same plan and seed as the CLI', async () => {
      const got = await browserSamples(page, { seed: 42, batch: 64 });
      const diff = maxAbsDiff(nativeSamples(['--plan', PLAN, '--seed', '42', '--batch', '64']), got.samples);
      console.log(`# WebGPU vs native (seed 42): max |diff| = ${diff.toExponential(2)}`);
      assert.ok(diff <= TOL, `max |diff| ${diff} > ${TOL}`);
    });

    await t.test('every solver compiles and runs in the browser as natively', async () => {
      const noise = JSON.parse(readFileSync(NOISE, 'utf8'));
      const gmm = readFileSync(MODEL, 'utf8');
      for (const solver of SOLVERS) {
        const got = await page.evaluate(
          async ({ solver, gmm, noise }) => {
            const { m, sampler } = await openSampler(true);
            const model = sampler.loadModel(new TextEncoder().encode(gmm), 'gmm');
            const plan = model.plan(solver, 'logsnr', 8, false, false);
            const r = await sampler.sample(plan, model, new Float64Array(noise.flat()), new Uint32Array(), 1, 7n);
            return Array.from(r.samples);
          },
          { solver, gmm, noise },
        );
        const want = nativeSamples(['--solver', solver, '--schedule', 'logsnr', '--nfe', '8', '--noise', NOISE, '--seed', '7']);
        const diff = maxAbsDiff(want, got);
        assert.ok(diff <= TOL, `${solver}: max |diff| ${diff} > ${TOL}`);
      }
    });

    await t.test('bad input is a rejected promise with a message, not a crash', async () => {
      const message = await page.evaluate(async (gmm) => {
        const { m, sampler } = await openSampler(true);
        try {
          m.Plan.fromJson('{"version": 1}');
          return 'parsed';
        } catch (e) {
          return String(e.message ?? e);
        }
      }, readFileSync(MODEL, 'utf8'));
      assert.match(message, /invalid plan JSON/);
      const wrongDim = await page.evaluate(async ([plan, gmm]) => {
        const { m, sampler } = await openSampler(true);
        const model = sampler.loadModel(new TextEncoder().encode(gmm), 'gmm');
        return sampler.sample(m.Plan.fromJson(plan), model, new Float64Array([1, 2, 3]), new Uint32Array(), 1).then(() => 'resolved', (e) => String(e.message ?? e));
      }, [readFileSync(PLAN, 'utf8'), readFileSync(MODEL, 'utf8')]);
      assert.match(wrongDim, /not a whole batch of 2-dimensional samples/);
      // The module still works afterwards.
      const again = await browserSamples(page, { seed: 1, batch: 4 });
      assert.equal(again.samples.length, 8);
    });

    await t.test('GITS in the page: cancel, then a search equal to the native one, used at once', async () => {
      await cancelGits(page, PAGE_TIMEOUT);
      const file = await runGits(page, PAGE_TIMEOUT);
      const out = join(tmp, 'native.gits.json');
      cli(['gits', '--model', `gmm:${MODEL}`, '--warmup', '256', '--seed', '0', '--gamma', '1.15', '--nfe', '1..20', '--out', out]);
      const native = JSON.parse(readFileSync(out, 'utf8'));
      assert.equal(file.model.sha256, native.model.sha256);
      assert.deepEqual(file.schedules.map((f) => f.indices), native.schedules.map((f) => f.indices));
      console.log(`# GITS in the page: warmup ${file.timing.warmup_s.toFixed(3)} s, cost matrix ${file.timing.cost_matrix_s.toFixed(3)} s, DP ${file.timing.dp_s.toFixed(4)} s`);
      await page.waitForSelector('body[data-state="ready"]', { timeout: PAGE_TIMEOUT });
      assert.match(await page.textContent('#result'), /on gits-here, NFE 10/);
      assert.equal(await page.getAttribute('#gits-download', 'hidden'), null);
    });

    await t.test('GITS with AFS in the page equals the native `gits --afs` and samples with it', async () => {
      await page.check('input[name="afs"]');
      const file = await runGits(page, PAGE_TIMEOUT);
      const out = join(tmp, 'native-afs.gits.json');
      cli(['gits', '--model', `gmm:${MODEL}`, '--warmup', '256', '--seed', '0', '--gamma', '1.15', '--nfe', '1..20', '--afs', '--out', out]);
      const native = JSON.parse(readFileSync(out, 'utf8'));
      const afs = (f) => f.schedules.filter((s) => s.afs).map((s) => s.indices);
      assert.ok(afs(native).length > 0, 'the native search made AFS schedules');
      assert.deepEqual(afs(file), afs(native));
      assert.ok(file.schedules.filter((s) => s.afs).every((s) => s.student === 'ipndm:4'), 'AFS entries name the solver they were chosen with');
      await page.waitForSelector('body[data-state="ready"]', { timeout: PAGE_TIMEOUT });
      assert.match(await page.textContent('#result'), /ipndm on gits-here, NFE 10/);
      // The file chose AFS for iPNDM, so the page samples with it: 10 evaluations over 11 steps.
      const used = file.schedules.find((s) => s.afs && s.steps === 11);
      assert.match(await page.textContent('#plan caption'), /: 10 evaluations over 11 steps \(analytic first step\)/);
      assert.ok(used, 'the file has the 11-step AFS schedule the page sampled on');
      await page.uncheck('input[name="afs"]');
    });

    await t.test('GITS with the propagated cost equals the native `gits --propagate`', async () => {
      await page.selectOption('select[name="gits-cost"]', 'propagated');
      const file = await runGits(page, PAGE_TIMEOUT);
      const out = join(tmp, 'native-propagated.gits.json');
      cli(['gits', '--model', `gmm:${MODEL}`, '--warmup', '256', '--seed', '0', '--gamma', '1.15', '--nfe', '1..20', '--propagate', '--out', out]);
      const native = JSON.parse(readFileSync(out, 'utf8'));
      assert.deepEqual(file.propagation.measured, native.propagation.measured);
      assert.ok(file.propagation.gains.every((g, i) => Math.abs(g - native.propagation.gains[i]) < 1e-12 * Math.max(1, g)));
      assert.deepEqual(file.schedules.map((f) => f.indices), native.schedules.map((f) => f.indices));
      // The cost changes the search: some budget gets other steps than the paper's cost gives.
      const paper = JSON.parse(readFileSync(join(tmp, 'native.gits.json'), 'utf8'));
      assert.notDeepEqual(file.schedules.map((f) => f.indices), paper.schedules.map((f) => f.indices));
      await page.waitForSelector('body[data-state="ready"]', { timeout: PAGE_TIMEOUT });
      await page.selectOption('select[name="gits-cost"]', 'paper');
    });

    await t.test('GITS with another gamma equals the native search with that gamma', async () => {
      await page.fill('input[name="gits-gamma"]', '1.3');
      const file = await runGits(page, PAGE_TIMEOUT);
      const out = join(tmp, 'native-gamma.gits.json');
      cli(['gits', '--model', `gmm:${MODEL}`, '--warmup', '256', '--seed', '0', '--gamma', '1.3', '--nfe', '1..20', '--out', out]);
      const native = JSON.parse(readFileSync(out, 'utf8'));
      assert.ok(file.schedules.every((f) => f.gamma === 1.3));
      assert.deepEqual(file.schedules.map((f) => f.indices), native.schedules.map((f) => f.indices));
      await page.fill('input[name="gits-gamma"]', '0.5');
      await page.click('#gits-run');
      await page.waitForSelector('body[data-gits="error"]');
      assert.match(await page.textContent('#gits-status'), /gamma must be a number in 1\.\.3, got "0\.5"/);
      await page.fill('input[name="gits-gamma"]', '1.15');
      await page.waitForSelector('body[data-state="ready"]', { timeout: PAGE_TIMEOUT });
    });

    await t.test('the form validates its input', async () => {
      await page.fill('input[name="nfe"]', '0');
      await page.click('#controls button[type="submit"]');
      await page.waitForSelector('body[data-state="error"]');
      assert.match(await page.textContent('#result'), /nfe must be an integer in 1\.\.200/);
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('without WebGPU the page shows the CPU fallback, downloads only the CPU module, and samples', { timeout: 300_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    site.requests.length = 0;
    const shown = await openPage(page, '?solver=heun&nfe=8&batch=64');
    assert.equal(shown.state, 'ready', `page error: ${shown.result}`);
    assert.equal(shown.backend, 'cpu');
    assert.match(shown.status, /CPU fallback \(burn flex\): .*WebGPU/);
    assert.ok(site.requests.includes('/pkg/gits_sampler_cpu_bg.wasm'), site.requests.join(' '));
    assert.deepEqual(site.requests.filter((r) => r.includes('webgpu')), []);
    assert.match(shown.result, /64 samples with heun/);
    const noise = JSON.parse(readFileSync(NOISE, 'utf8'));
    const got = await browserSamples(page, { noise, webgpu: false });
    assert.equal(got.backend, 'cpu');
    const diff = maxAbsDiff(nativeSamples(['--plan', PLAN, '--noise', NOISE]), got.samples);
    console.log(`# CPU fallback vs native (noise file): max |diff| = ${diff.toExponential(2)}`);
    assert.ok(diff <= TOL, `max |diff| ${diff} > ${TOL}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('the playground: models, URL state, animation, plan view, keyboard, bad URL values', { timeout: 300_000 }, async (t) => {
  const { browser, page, errors } = await launch(false);
  const field = (name) => page.inputValue(`#controls [name="${name}"]`);
  try {
    await t.test('a URL sets every control and is written back after Generate', async () => {
      const shown = await openPage(page, '?backend=cpu&model=moons-kde&solver=heun&nfe=8&seed=3&batch=64&schedule=logsnr');
      assert.equal(shown.state, 'ready', shown.result);
      assert.deepEqual(
        { model: await field('model'), solver: await field('solver'), nfe: await field('nfe'), seed: await field('seed'), batch: await field('batch'), schedule: await field('schedule') },
        { model: 'moons-kde', solver: 'heun', nfe: '8', seed: '3', batch: '64', schedule: 'logsnr' },
      );
      assert.match(shown.result, /64 samples with heun on logsnr, NFE 8/);
      await page.selectOption('#controls [name="solver"]', 'dpmpp:2');
      await page.click('#controls button[type="submit"]');
      await page.waitForFunction(() => document.body.dataset.state === 'ready' && /dpmpp:2/.test(document.querySelector('#result').textContent));
      const params = new URL(page.url()).searchParams;
      assert.equal(params.get('solver'), 'dpmpp:2');
      assert.equal(params.get('model'), 'moons-kde');
      // The written URL reproduces the same samples.
      const before = await page.evaluate(() => Array.from(window.last.samples));
      await openPage(page, new URL(page.url()).search);
      assert.deepEqual(await page.evaluate(() => Array.from(window.last.samples)), before);
    });

    await t.test('each model kind samples; a different model gives different samples', async () => {
      const firsts = {};
      for (const model of ['gmm', 'moons-mlp', 'checkerboard-kde']) {
        const shown = await openPage(page, `?backend=cpu&model=${model}&batch=16&nfe=6`);
        assert.equal(shown.state, 'ready', `${model}: ${shown.result}`);
        firsts[model] = await page.evaluate(() => window.last.samples[0]);
      }
      assert.equal(new Set(Object.values(firsts)).size, 3);
    });

    await t.test('the step slider redraws, the plan table lists the solver, Play runs to the end', async () => {
      await openPage(page, '?backend=cpu&model=gmm&solver=euler&nfe=4&batch=32');
      const final = await page.evaluate(() => document.querySelector('#view').toDataURL());
      await page.fill('#step', '1');
      await page.dispatchEvent('#step', 'input');
      assert.match(await page.textContent('#step-label'), /^1 \/ 4/);
      assert.notEqual(await page.evaluate(() => document.querySelector('#view').toDataURL()), final);
      const rows = await page.locator('#plan tbody tr.eval').count();
      assert.equal(rows, 4, 'Euler with NFE 4: four evaluations');
      assert.match(await page.textContent('#plan caption'), /euler: 4 evaluations over 4 steps/);
      await page.click('#play');
      assert.equal(await page.textContent('#play'), 'Pause');
      await page.waitForFunction(() => document.querySelector('#step').value === '0');
      await page.waitForFunction(() => document.querySelector('#play').textContent === 'Play' && document.querySelector('#step').value === '4', null, { timeout: 10_000 });
    });

    await t.test('keyboard: Tab reaches Generate and Enter runs it', async () => {
      await openPage(page, '?backend=cpu&batch=8');
      await page.focus('#controls [name="model"]');
      let reached = false;
      for (let i = 0; i < 20 && !reached; i++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate(() => document.activeElement?.matches('#controls button[type="submit"]'));
      }
      assert.ok(reached, 'Generate is reachable by Tab from the model picker');
      await page.fill('#controls [name="seed"]', '9');
      await page.focus('#controls button[type="submit"]');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('seed') === '9' && document.body.dataset.state === 'ready');
    });

    await t.test('bad URL values give a visible message, never markup', async () => {
      const shown = await openPage(page, `?backend=cpu&model=mnist&label=${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
      assert.equal(shown.state, 'error');
      assert.match(shown.result, /class must be 0\.\.9, cycle or none, got "<img src=x onerror=alert\(1\)>"/);
      assert.equal(await page.locator('#result img').count(), 0);
      const unknown = await openPage(page, '?backend=cpu&solver=rk45');
      assert.match(unknown.result, /unknown solver "rk45"/);
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
