// The GITS map in headless Chromium (CPU; the exact 2-D mixture): the heat map's paths at the
// shipped file's gamma are the file's schedules, the gamma slider re-runs the DP and gives the
// native `gits --gamma` indices, and a propagated file shows its first-jump measurements; the
// MNIST files are mapped too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, launch, openPage, runGits, serveDist } from './harness.mjs';

const TIMEOUT = 180_000;
const site = serveDist();
const shipped = (name) => JSON.parse(readFileSync(`schedules/${name}`, 'utf8'));

/** Moves the gamma slider and waits for the map redrawn at that gamma. */
async function slide(page, gamma) {
  await page.$eval('#gits-map-gamma', (el, g) => {
    el.value = String(g);
    el.dispatchEvent(new Event('input'));
  }, gamma);
  await page.waitForFunction((g) => window.gitsMapLast?.gamma === g && document.body.dataset.gitsMap === 'ready', gamma, { timeout: TIMEOUT });
  return page.evaluate(() => window.gitsMapLast);
}

test('the GITS map', { timeout: 600_000 }, async (t) => {
  const { browser, page, errors } = await launch(false);
  await page.setViewportSize({ width: 1000, height: 1600 });
  try {
    const shown = await openPage(page, `${site.url}?backend=cpu&model=gmm&schedule=gits&nfe=6&batch=64`, TIMEOUT);
    assert.equal(shown.state, 'ready', shown.result);
    await page.waitForSelector('body[data-gits-map="ready"], body[data-gits-map="error"]', { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('body', 'data-gits-map'), 'ready', await page.textContent('#gits-map-caption'));

    await t.test("at the file's gamma the paths are the file's schedules", async () => {
      const file = shipped('eight-gaussians.gits.json');
      const map = await page.evaluate(() => window.gitsMapLast);
      assert.equal(map.gamma, file.schedules[0].gamma);
      assert.equal(map.rows.length, file.grid.length - 1);
      const plain = file.schedules.filter((s) => !s.afs && !s.student && s.gamma === map.gamma);
      assert.ok(plain.length >= 8);
      for (const s of plain) assert.deepEqual(map.paths[s.steps - 1], s.indices, `${s.steps} steps`);
      assert.equal(await page.getAttribute('#gits-first-jump', 'hidden'), null, 'a propagated file shows its first-jump measurements');
      // An exact model's search measures the first jump beside every grid point but the ends.
      assert.deepEqual(map.propagation.measured, Array.from({ length: file.grid.length - 3 }, (_, i) => i + 2));
      assert.equal(map.propagation.left.length, map.propagation.measured.length);
      assert.match(await page.textContent('#gits-map-caption'), /the 6-step one sampled with/);
    });

    await t.test('the gamma slider gives the native search at that gamma', async () => {
      const map = await slide(page, 1.3);
      const out = join(mkdtempSync(join(tmpdir(), 'gits-map-')), 'native.gits.json');
      cli(['gits', '--model', 'gmm:models/eight-gaussians.gmm.json', '--warmup', '256', '--seed', '0', '--gamma', '1.3', '--nfe', `1..${map.paths.length}`, '--propagate', '--out', out]);
      const native = JSON.parse(readFileSync(out, 'utf8'));
      assert.deepEqual(map.paths, native.schedules.map((s) => s.indices));
      mkdirSync('test-results', { recursive: true });
      await page.locator('#gits-map-view').screenshot({ path: 'test-results/gits-map.png' });
    });

    await t.test('the optimal-step search in the page equals the native one and samples with it', async () => {
      await page.check('input[name="gits-optimal"]');
      const file = await runGits(page, TIMEOUT);
      const out = join(mkdtempSync(join(tmpdir(), 'gits-oss-')), 'native.gits.json');
      cli(['gits', '--model', 'gmm:models/eight-gaussians.gmm.json', '--warmup', '256', '--seed', '0', '--gamma', '1.15', '--nfe', '1..20', '--optimal-steps', 'ipndm', '--out', out]);
      const native = JSON.parse(readFileSync(out, 'utf8'));
      const optimal = (f) => f.schedules.filter((s) => s.optimal).map((s) => [s.student, s.indices]);
      assert.equal(optimal(native).length, 20);
      assert.deepEqual(optimal(file), optimal(native));
      assert.ok(file.timing.optimal_steps_s > 0);
      await page.waitForSelector('body[data-state="ready"]', { timeout: TIMEOUT });
      assert.match(await page.textContent('#result'), /ipndm on gits-here, NFE 6/);
      const six = file.schedules.find((s) => s.optimal && s.steps === 6);
      assert.deepEqual(await page.evaluate(() => window.last.plan.sigmas), six.sigmas, 'iPNDM samples on its optimal-step schedule');
      await page.uncheck('input[name="gits-optimal"]');
    });

    await t.test("the paper's file has no first-jump measurements, and other schedules no map", async () => {
      assert.equal((await openPage(page, `${site.url}?backend=cpu&model=gmm&schedule=gits-paper&batch=64`, TIMEOUT)).state, 'ready');
      await page.waitForSelector('body[data-gits-map="ready"]', { timeout: TIMEOUT });
      assert.equal(await page.getAttribute('#gits-first-jump', 'hidden'), '');
      assert.match(await page.textContent('#gits-map-caption'), /propagated cost also measures/);
      assert.equal((await openPage(page, `${site.url}?backend=cpu&model=gmm&batch=64`, TIMEOUT)).state, 'ready');
      await page.waitForSelector('body[data-gits-map="none"]', { timeout: TIMEOUT });
      assert.equal(await page.getAttribute('#gits-map-view', 'hidden'), '');
    });

    await t.test("the MNIST network's shipped files keep their cost matrix: both are mapped", async () => {
      for (const [schedule, name] of [['gits', 'mnist-unet.gits.json'], ['gits-paper', 'mnist-unet.gits-paper.json']]) {
        assert.equal((await openPage(page, `${site.url}?backend=cpu&model=mnist&schedule=${schedule}&batch=1&nfe=4`, TIMEOUT)).state, 'ready');
        await page.waitForSelector('body[data-gits-map="ready"], body[data-gits-map="error"]', { timeout: TIMEOUT });
        assert.equal(await page.getAttribute('body', 'data-gits-map'), 'ready', await page.textContent('#gits-map-caption'));
        const file = shipped(name);
        const map = await page.evaluate(() => window.gitsMapLast);
        assert.equal(map.rows.length, file.grid.length - 1);
        for (const s of file.schedules.filter((s) => !s.student && s.gamma === map.gamma)) assert.deepEqual(map.paths[s.steps - 1], s.indices, `${name}, ${s.steps} steps`);
      }
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
