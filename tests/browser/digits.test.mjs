// The MNIST section of the page: the shipped int8 U-Net samples digits on WebGPU (SwiftShader)
// and on the CPU fallback (on the shipped GITS schedule), equal to the native CLI's within f32
// tolerance; a GITS search for the network in the page (cancelled once, then run) finds the
// native search's grid indices and samples on them at once; a corrupted weights file is
// rejected with its message. Run after `bash build.sh` (npm test does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cancelGits, cli, launch, maxAbsDiff, runGits, serveDist } from './harness.mjs';

const MODEL = 'models/mnist-unet.int8.gsw';
const TIMEOUT = 300_000;
// Measured: WebGPU (SwiftShader) vs native flex 8e-4 after 10 iPNDM steps on 20 digits (pixel
// range [-1, 1]; different f32 summation orders in the convolutions); CPU-wasm vs native 2e-5.
const TOL = { webgpu: 5e-3, cpu: 1e-3 };

const tmp = mkdtempSync(join(tmpdir(), 'gits-digits-'));

const site = serveDist();

function nativeDigits(args) {
  const out = join(tmp, `digits-${Math.random().toString(36).slice(2)}.json`);
  cli(['sample', '--denoiser', MODEL, '--backend', 'flex', '--out', out, ...args]);
  return JSON.parse(readFileSync(out, 'utf8')).samples;
}

// A small search (4 trajectories, 10-step teacher) keeps SwiftShader's share short; the grid
// indices, not the sigmas' last digits, are what must agree.
const SMALL_GITS = { warmup: '4', points: '11' };
let nativeSmallGits;
function nativeGits() {
  if (!nativeSmallGits) {
    const out = join(tmp, 'native-mnist.gits.json');
    cli(['gits', '--model', MODEL, '--warmup', SMALL_GITS.warmup, '--grid', `polynomial:${SMALL_GITS.points}`, '--seed', '0', '--nfe', '1..10', '--out', out]);
    nativeSmallGits = JSON.parse(readFileSync(out, 'utf8'));
  }
  return nativeSmallGits;
}

async function fill(page, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const selector = `#controls [name="${name}"]`;
    if ((await page.locator(selector).evaluate((el) => el.tagName)) === 'SELECT') await page.selectOption(selector, value);
    else await page.fill(selector, value);
  }
}

/** Fills the digits form, presses Generate and waits for the grid. */
async function generate(page, fields) {
  await fill(page, fields);
  await page.click('#controls button[type="submit"]');
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: TIMEOUT });
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready', await page.textContent('#result'));
  return page.evaluate(() => ({ batch: window.last.batch, samples: Array.from(window.last.samples) }));
}

for (const webgpu of [true, false]) {
  const backend = webgpu ? 'webgpu' : 'cpu';
  test(`digits on ${backend} equal the native CLI's`, { timeout: 600_000 }, async () => {
    const { browser, page, errors } = await launch(webgpu);
    try {
      await page.goto(site.url + (webgpu ? '' : '?backend=cpu'));
      await page.waitForSelector('body[data-state="ready"]', { timeout: TIMEOUT });
      assert.equal(await page.getAttribute('body', 'data-backend'), backend);
      // SwiftShader runs the U-Net slowly: a small batch and few steps keep the test short.
      const fields = webgpu
        ? { model: 'mnist', label: 'cycle', guidance: '1', solver: 'ipndm', schedule: 'polynomial:7', nfe: '3', seed: '5', batch: '2' }
        : { model: 'mnist', label: '7', guidance: '2', solver: 'euler', schedule: 'gits', nfe: '5', seed: '3', batch: '4' };
      const got = await generate(page, fields);
      assert.equal(got.batch, Number(fields.batch));
      const schedule = fields.schedule === 'gits' ? 'gits:schedules/mnist-unet.gits.json' : fields.schedule;
      const want = nativeDigits(['--solver', fields.solver, '--schedule', schedule, '--nfe', fields.nfe, '--seed', fields.seed, '--batch', fields.batch, '--class', fields.label, '--guidance', fields.guidance]);
      const diff = maxAbsDiff(want, got.samples);
      console.log(`# digits ${backend} vs native: max |diff| = ${diff.toExponential(2)}`);
      assert.ok(diff <= TOL[backend], `max |diff| ${diff} > ${TOL[backend]}`);
      // The shipped file chose AFS for Euler: the page and the CLI both take the analytic first step.
      if (fields.schedule === 'gits') assert.match(await page.textContent('#plan caption'), /: 5 evaluations over 6 steps \(analytic first step\)/);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: `test-results/digits-${backend}.png`, fullPage: true });

      // GITS for the network, here: cancel one search, then run one and sample on it.
      await fill(page, { 'gits-warmup': SMALL_GITS.warmup, 'gits-grid': SMALL_GITS.points });
      await cancelGits(page, TIMEOUT);
      const file = await runGits(page, TIMEOUT);
      const native = nativeGits();
      assert.equal(file.model.sha256, native.model.sha256);
      assert.deepEqual(file.schedules.map((f) => f.indices), native.schedules.map((f) => f.indices));
      const t = file.timing;
      console.log(`# MNIST GITS on ${backend} (${SMALL_GITS.warmup} x ${Number(SMALL_GITS.points) - 1} NFE): warmup ${t.warmup_s.toFixed(2)} s, cost matrix ${t.cost_matrix_s.toFixed(3)} s, DP ${t.dp_s.toFixed(4)} s`);
      await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: TIMEOUT });
      assert.match(await page.textContent('#result'), /on gits-here, NFE/);
      assert.equal(await page.getAttribute('#gits-download', 'hidden'), null);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}

test('a corrupted or truncated weights file is rejected with its message', { timeout: 300_000 }, async () => {
  const { browser, page } = await launch(false);
  try {
    await page.goto(site.url + '?backend=cpu');
    await page.waitForSelector('body[data-state="ready"]', { timeout: TIMEOUT });
    const messages = await page.evaluate(async (model) => {
      const { m, sampler } = await openSampler(false);
      const good = new Uint8Array(await (await fetch(model)).arrayBuffer());
      const flipped = good.slice();
      flipped[flipped.length - 1] ^= 0x40;
      const attempt = (bytes) => {
        try {
          sampler.loadModel(bytes, 'mnist-unet.int8.gsw');
          return 'loaded';
        } catch (e) {
          return String(e.message ?? e);
        }
      };
      return [attempt(flipped), attempt(good.slice(0, good.length - 10)), attempt(new Uint8Array([1, 2, 3])), attempt(good)];
    }, MODEL);
    assert.match(messages[0], /corrupted/);
    assert.match(messages[1], /truncated by 10 bytes/);
    assert.match(messages[2], /not a gits-sampler weights file/);
    assert.equal(messages[3], 'loaded');
  } finally {
    await browser.close();
  }
});
