// Your own model in the page: ONNX models opened from a file input or from this site, run by
// onnxruntime-web with the crate's plan executor and adapter. The MNIST export against the
// shipped weights file, the exact mixture in each parameterization against the native CLI, the
// diffusers fixture from disk (sample, GITS search, download, compare), the widget on a hosted
// model, bad files named, and the page's probe findings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, launch, openPage as open, runGits, serveDist, settledWidgets } from './harness.mjs';
import { CSP, serve } from '../../www/serve.mjs';

const FIXTURES = 'tests/fixtures/onnx';
const PAGE_TIMEOUT = 300_000;
const site = serveDist();
const tmp = mkdtempSync(join(tmpdir(), 'gits-onnx-'));

// The fixtures, served beside the page for the url: route (removed after).
before(() => cpSync(FIXTURES, 'dist/fixtures', { recursive: true }));
after(() => rmSync('dist/fixtures', { recursive: true, force: true }));

const openPage = (page, query) => open(page, site.url + query, PAGE_TIMEOUT);

/** The page's last samples, as plain numbers. */
const lastSamples = (page) => page.evaluate(() => ({ dim: window.last.dim, batch: window.last.batch, samples: Array.from(window.last.samples) }));

const maxDiff = (a, b) => {
  assert.equal(a.length, b.length, 'sample counts differ');
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
};

test('the MNIST export samples in the page within 1e-4 of the shipped weights file, on the same noise', { timeout: 600_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    const settings = 'solver=ipndm&nfe=8&seed=3&batch=4&label=cycle&guidance=2&backend=cpu';
    const onnx = await openPage(page, `?model=url:fixtures/mnist-unet.onnx&${settings}`);
    assert.equal(onnx.state, 'ready', onnx.result);
    assert.match(await page.textContent('#model-info'), /sha256[0-9a-f]{64}.*the model's metadata_props.*onnxruntime-web, wasm/s);
    const a = await lastSamples(page);
    const gsw = await openPage(page, `?model=mnist&${settings}`);
    assert.equal(gsw.state, 'ready', gsw.result);
    const b = await lastSamples(page);
    assert.equal(a.dim, 784);
    const d = maxDiff(a.samples, b.samples);
    assert.ok(d < 1e-4, `ONNX and .gsw samples differ by ${d}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

/** The CLI (tract) on the same ONNX file, seed and plan: its samples, flattened. */
function native(file, args) {
  const out = join(tmp, `native-${Math.random().toString(36).slice(2)}.json`);
  cli(['sample', '--denoiser', `${FIXTURES}/${file}`, '--out', out, ...args]);
  return JSON.parse(readFileSync(out, 'utf8')).samples.flat();
}

for (const [webgpu, files] of [
  [false, ['gmm-denoised.onnx', 'gmm-epsilon/model.onnx', 'gmm-v.onnx', 'gmm-velocity.onnx', 'gmm-epsilon-int64-f32.onnx']],
  [true, ['gmm-velocity-f32.onnx']],
]) {
  test(`the exact mixture in each parameterization samples as the native CLI does (${webgpu ? 'WebGPU' : 'CPU'})`, { timeout: 900_000 }, async () => {
    const { browser, page, errors } = await launch(webgpu);
    try {
      for (const file of files) {
        const shown = await openPage(page, `?model=url:fixtures/${file}&solver=heun&nfe=14&seed=1&batch=16${webgpu ? '' : '&backend=cpu'}`);
        assert.equal(shown.state, 'ready', `${file}: ${shown.result}`);
        const got = await lastSamples(page);
        const want = native(file, ['--solver', 'heun', '--nfe', '14', '--seed', '1', '--batch', '16']);
        // f64 graphs differ by the page's f32 samples alone; f32 graphs by their own rounding.
        const tol = /f32/.test(file) ? 1e-4 : 1e-5;
        const d = maxDiff(got.samples, want);
        assert.ok(d < tol, `${file}: page and CLI differ by ${d}`);
        if (webgpu) assert.match(await page.textContent('#model-info'), /onnxruntime-web, (WebGPU|wasm)/);
      }
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}

test('the diffusers fixture opens from a file input, samples, searches a GITS schedule, downloads it and compares', { timeout: 900_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    const home = await openPage(page, '?backend=cpu');
    assert.equal(home.state, 'ready', home.result);
    await page.setInputFiles('#open-model', [`${FIXTURES}/diffusers-unet/model.onnx`, `${FIXTURES}/diffusers-unet/scheduler_config.json`]);
    await page.waitForFunction(() => document.body.dataset.open === 'opened' && document.body.dataset.state === 'ready' && window.last?.dim === 3072, null, { timeout: PAGE_TIMEOUT });
    await page.fill('input[name="batch"]', '2');
    await page.fill('input[name="nfe"]', '4');
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && window.last?.batch === 2, null, { timeout: PAGE_TIMEOUT });
    const info = await page.textContent('#model-info');
    assert.match(info, /model\.onnx/);
    assert.match(info, /sample float32 \[batch, 3, 32, 32\]; timestep int64 \[batch\]/);
    assert.match(await page.textContent('#model-binding'), /output   "out_sample": epsilon/);
    assert.equal(await page.$eval('select[name="model"]', (s) => s.value), 'file:model.onnx');
    // The image grid: 2 colour samples of 32x32, drawn.
    assert.match(await page.textContent('#result'), /2 samples with ipndm/);
    // A small GITS search, then its file downloaded.
    await page.fill('input[name="gits-warmup"]', '2');
    await page.fill('input[name="gits-grid"]', '9');
    const file = await runGits(page, PAGE_TIMEOUT);
    const sha = await page.getAttribute('#model-info', 'data-sha256');
    assert.equal(file.model.sha256, sha);
    assert.equal(file.model.id, 'model.onnx');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#gits-download')]);
    const saved = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(saved.model.sha256, sha);
    await page.waitForSelector('body[data-state="ready"]', { timeout: PAGE_TIMEOUT });
    assert.equal(await page.$eval('select[name="schedule"]', (s) => s.value), 'gits-here');
    // Compare A (the GITS schedule found) with B on the same noise.
    await page.selectOption('select[name="b-schedule"]', 'logsnr');
    await page.fill('input[name="b-nfe"]', '4');
    await page.click('#compare-run');
    await page.waitForSelector('body[data-compare="done"], body[data-compare="error"]', { timeout: PAGE_TIMEOUT });
    assert.equal(await page.getAttribute('body', 'data-compare'), 'done', await page.textContent('#compare-status'));
    assert.equal((await page.evaluate(() => window.compareLast)).length, 2);
    // The GITS file opened again with "Open GITS file…" is accepted for this model.
    await page.setInputFiles('#open-gits', { name: 'model.gits.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(saved)) });
    await page.waitForSelector('body[data-state="ready"]', { timeout: PAGE_TIMEOUT });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('the widget shows a hosted ONNX model', { timeout: 600_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    await page.goto(`${site.url}embed.html?model=url:fixtures/gmm-velocity-f32.onnx&card=fixtures/gmm-velocity-f32.card.json&nfe=6&batch=64`);
    const [w] = await settledWidgets(page, PAGE_TIMEOUT);
    assert.equal(w.state, 'ready', w.caption);
    assert.match(w.caption, /64 samples, ipndm on polynomial:7, NFE 6/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('bad files get a named error and leave the page working', { timeout: 600_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    const asked = site.requests.length;
    const home = await openPage(page, '?backend=cpu&batch=16');
    assert.equal(home.state, 'ready', home.result);
    // The default page downloads nothing of onnxruntime-web.
    assert.deepEqual(site.requests.slice(asked).filter((r) => r.includes('/ort/')), []);
    const cases = [
      [['bad/not-onnx.onnx'], /not-onnx\.onnx: not an ONNX model/],
      [['bad/unsupported-op.onnx', 'bad/unsupported-op.card.json'], /unsupported-op\.onnx: onnxruntime-web \(wasm\) cannot run the graph/],
      // A card that contradicts the graph: the MNIST card on the mixture.
      [['gmm-v.onnx', 'mnist-unet.export-card.json'], /^Not opened: gmm-v\.onnx: the card's sample shape \[1, 28, 28\] does not fit the graph's \[batch, 2\]/],
      // A timestep of the wrong type: an integer input the card calls sigma.
      [['bad/int-sigma.onnx', 'bad/int-sigma.card.json'], /int-sigma\.onnx: .*int64/],
    ];
    for (const [files, message] of cases) {
      await page.setInputFiles('#open-model', files.map((f) => `${FIXTURES}/${f}`));
      await page.waitForSelector('body[data-open="error"]', { timeout: PAGE_TIMEOUT });
      const said = await page.textContent('#open-status');
      assert.match(said, message);
      assert.equal(await page.getAttribute('body', 'data-state'), 'error');
      // The page still samples its own models.
      await page.evaluate(() => { document.body.dataset.open = ''; });
      await page.click('button[type="submit"]');
      await page.waitForSelector('body[data-state="ready"]', { timeout: PAGE_TIMEOUT });
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('the probe findings: toy data, empty and short GITS files, Trusted Types, user timings', { timeout: 600_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    // 1-D toy points: the error stays, no progress text overwrites it.
    await page.route('**/models/toy-moons.kde.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"points": [[0.1]]}' }));
    const toy = await openPage(page, '?model=moons-mlp&backend=cpu');
    assert.equal(toy.state, 'error');
    assert.match(toy.result, /"points" must be a list of \[x, y\] pairs/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.match(await page.textContent('#result'), /"points" must be a list/);
    assert.equal(await page.getAttribute('body', 'data-state'), 'error');
    await page.unroute('**/models/toy-moons.kde.json');
    // An empty GITS file is named as such.
    await page.route('**/schedules/eight-gaussians.gits.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '' }));
    const empty = await openPage(page, '?schedule=gits&backend=cpu');
    assert.match(empty.result, /schedules\/eight-gaussians\.gits\.json is empty/);
    await page.unroute('**/schedules/eight-gaussians.gits.json');
    // A step count the file lacks: the file named, its step counts listed once.
    const short = await openPage(page, '?schedule=gits&nfe=37&backend=cpu');
    assert.equal(short.state, 'error');
    assert.match(short.result, /schedules\/eight-gaussians\.gits\.json: .*this file has/);
    const counts = short.result.match(/this file has ([\d, ]+) steps/)[1].split(', ');
    assert.deepEqual(counts, [...new Set(counts)], short.result);
    // User timings: marked once, not once per sampling.
    const ok = await openPage(page, '?backend=cpu&batch=16');
    assert.equal(ok.state, 'ready');
    for (let i = 0; i < 3; i++) {
      await page.click('button[type="submit"]');
      await page.waitForSelector('body[data-state="ready"]');
    }
    assert.ok((await page.evaluate(() => performance.getEntriesByType('mark').length)) <= 4);
    assert.deepEqual(errors.filter((e) => !/HTTP 404/.test(e)), []);
  } finally {
    await browser.close();
  }
  // Under a Trusted Types CSP the worker starts through the page's policy.
  const server = await serve('dist', 0, { 'Content-Security-Policy': `${CSP}; require-trusted-types-for 'script'` });
  const { browser: b2, page: p2, errors: e2 } = await launch(false);
  try {
    const shown = await open(p2, `http://127.0.0.1:${server.address().port}/?backend=cpu`, PAGE_TIMEOUT);
    assert.equal(shown.state, 'ready', shown.result);
    assert.deepEqual(e2, []);
  } finally {
    await b2.close();
    server.close();
  }
});

test('a file without a card opens through the card form, which offers the card it made', { timeout: 600_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    const home = await openPage(page, '?backend=cpu');
    assert.equal(home.state, 'ready', home.result);
    // Alone, without its card: the form asks, prefilled from the graph's names.
    await page.setInputFiles('#open-model', [`${FIXTURES}/gmm-denoised-f32.onnx`]);
    await page.waitForSelector('#card-form:not([hidden])', { timeout: PAGE_TIMEOUT });
    assert.deepEqual(await page.evaluate(() => ['sample', 'noise', 'output', 'noise-as', 'parameterization', 'schedule'].map((id) => document.querySelector(`#card-${id}`).value)), ['x', 'sigma', 'denoised', 'sigma', 'denoised', 'edm']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#card-download')]);
    const card = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.deepEqual(card, { sample: { input: 'x' }, noise: { input: 'sigma', as: 'sigma' }, output: { name: 'denoised', parameterization: 'denoised' }, schedule: { kind: 'edm', sigma_min: 0.002, sigma_max: 80 } });
    await page.click('#card-use');
    await page.waitForFunction(() => document.body.dataset.open === 'opened' && document.body.dataset.state === 'ready' && window.last?.dim === 2, null, { timeout: PAGE_TIMEOUT });
    assert.match(await page.textContent('#model-info'), /the card given/);
    const viaForm = await lastSamples(page);
    // The same model with its own card file samples the same.
    const withCard = await openPage(page, `?model=url:fixtures/gmm-denoised-f32.onnx&backend=cpu&batch=${viaForm.batch}`);
    assert.equal(withCard.state, 'ready', withCard.result);
    assert.deepEqual((await lastSamples(page)).samples, viaForm.samples);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
