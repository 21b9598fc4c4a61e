// The playground's trajectory and comparison views in headless Chromium (CPU fallback, quick):
// the 3-D projection of a trajectory, Generate's per-evaluation progress, compare mode on the
// same noise with its teacher, and the error-vs-NFE chart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch, openPage, serveDist } from './harness.mjs';

const TIMEOUT = 180_000;
const site = serveDist();

/** Sample n's trajectory (x_T ... x_0) of the last result, as points. */
function trajectoryOf(page, n) {
  return page.evaluate((n) => {
    const r = window.last;
    return Array.from({ length: r.stepSigmas.length }, (_, k) => Array.from(r.steps.subarray((k * r.batch + n) * r.dim, (k * r.batch + n + 1) * r.dim)));
  }, n);
}

const dist = (a, b) => Math.hypot(...a.map((v, i) => v - b[i]));

test('trajectory views, progress and compare mode', { timeout: 600_000 }, async (t) => {
  const { browser, page, errors } = await launch(false);
  await page.setViewportSize({ width: 1000, height: 1400 });
  try {
    await t.test('Generate reports every evaluation', async () => {
      const shown = await openPage(page, `${site.url}?backend=cpu&model=gmm&nfe=10&batch=64`, TIMEOUT);
      assert.equal(shown.state, 'ready', shown.result);
      const bar = await page.evaluate(() => ({ max: document.querySelector('#progress').max, value: document.querySelector('#progress').value }));
      assert.deepEqual(bar, { max: 10, value: 10 });
    });

    await t.test('the 3-D view: x_T on axis 1 at |x_T - x_0|, distances kept, rotatable', async () => {
      await page.waitForFunction(() => window.projectionLast !== undefined);
      for (const n of [0, 5]) {
        if (n) {
          await page.fill('#orbit-sample', String(n));
          await page.dispatchEvent('#orbit-sample', 'change');
          await page.waitForFunction((n) => document.querySelector('#orbit-caption').dataset.sample === String(n), n);
        }
        const p = await page.evaluate(() => window.projectionLast);
        const path = await trajectoryOf(page, n);
        assert.equal(p.path.length, path.length);
        assert.equal(p.denoised.length, await page.evaluate(() => window.last.evalSigmas.length));
        // 2-D data lies in its own 3-D frame: nothing is lost, every distance is kept.
        assert.ok(Math.abs(p.captured - 1) < 1e-9, `captured ${p.captured}`);
        const span = dist(path[0], path.at(-1));
        assert.ok(Math.abs(p.path[0][0] - span) < 1e-4 * span, `x_T at ${p.path[0][0]}, |x_T - x_0| = ${span}`);
        assert.ok(p.path.at(-1).every((v) => Math.abs(v) < 1e-9), 'x_0 at the origin');
        for (const [i, j] of [[1, 5], [3, 9], [2, 10]]) {
          const d = dist(path[i], path[j]);
          assert.ok(Math.abs(dist(p.path[i], p.path[j]) - d) < 1e-4 * Math.max(d, 1e-3), `points ${i}, ${j} of sample ${n}`);
        }
      }
      const before = await page.evaluate(() => document.querySelector('#orbit').toDataURL());
      const angles = await page.evaluate(() => window.orbit.angles);
      await page.focus('#orbit');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowUp');
      const turned = await page.evaluate(() => window.orbit.angles);
      assert.ok(turned[0] > angles[0] && turned[1] < angles[1], `angles ${angles} -> ${turned}`);
      assert.notEqual(await page.evaluate(() => document.querySelector('#orbit').toDataURL()), before);
      // The step slider grows the path in the 3-D view too.
      const full = await page.evaluate(() => document.querySelector('#orbit').toDataURL());
      await page.fill('#step', '2');
      await page.dispatchEvent('#step', 'input');
      assert.notEqual(await page.evaluate(() => document.querySelector('#orbit').toDataURL()), full);
    });

    await t.test('the 3-D view: equal axes on demand, kept in the URL', async () => {
      const fit = await page.evaluate(() => window.orbit.halfSpans);
      assert.ok(Math.max(...fit) > 1.5 * Math.min(...fit), `the fitted axes differ: ${fit}`);
      const drawn = await page.evaluate(() => document.querySelector('#orbit').toDataURL());
      await page.selectOption('#orbit-axes', 'equal');
      const equal = await page.evaluate(() => window.orbit.halfSpans);
      assert.deepEqual(equal, fit.map(() => Math.max(...fit)));
      assert.notEqual(await page.evaluate(() => document.querySelector('#orbit').toDataURL()), drawn);
      assert.equal(new URL(page.url()).searchParams.get('axes'), 'equal');
      await openPage(page, `${site.url}?backend=cpu&model=gmm&nfe=10&batch=64&axes=equal`, TIMEOUT);
      assert.equal(await page.evaluate(() => window.orbit.axes), 'equal');
      assert.equal(await page.inputValue('#orbit-axes'), 'equal');
      const bad = await openPage(page, `${site.url}?backend=cpu&model=gmm&axes=square`, TIMEOUT);
      assert.equal(bad.state, 'error');
      assert.match(bad.result, /axes must be fit or equal, got "square"/);
      await page.selectOption('#orbit-axes', 'fit');
      assert.equal(new URL(page.url()).searchParams.get('axes'), null);
    });

    await t.test('compare: A, B and the teacher share the noise; the state is in the URL', async () => {
      // A is the teacher's own configuration, so its distance to the teacher is exactly 0.
      await openPage(page, `${site.url}?backend=cpu&model=gmm&batch=64&nfe=60&b-solver=euler&b-schedule=uniform&b-nfe=10`, TIMEOUT);
      await page.waitForSelector('body[data-compare="done"], body[data-compare="error"]', { timeout: TIMEOUT });
      assert.equal(await page.getAttribute('body', 'data-compare'), 'done', await page.textContent('#compare-status'));
      const [a, b] = await page.evaluate(() => window.compareLast.map((m) => m.l2));
      assert.equal(a, 0);
      assert.ok(b > 0.05, `Euler, 10 steps, time-uniform: L2 ${b}`);
      assert.match(await page.textContent('#compare-b-caption'), /euler on uniform, NFE 10; L2 to the teacher 0\.\d+/);
      const params = new URL(page.url()).searchParams;
      assert.deepEqual(['b-solver', 'b-schedule', 'b-nfe'].map((k) => params.get(k)), ['euler', 'uniform', '10']);
      assert.equal(await page.isHidden('#compare-view'), false);
    });

    let compared;
    await t.test('a new Generate re-runs the comparison for the new A', async () => {
      await page.fill('#controls [name="nfe"]', '10');
      await page.click('#controls button[type="submit"]');
      await page.waitForFunction(() => window.compareLast?.[0].shown.r.nfe === 10 && document.body.dataset.compare === 'done', null, { timeout: TIMEOUT });
      compared = await page.evaluate(() => window.compareLast.map((m) => m.l2));
      assert.ok(compared[0] > 0 && compared[0] < compared[1], `iPNDM ${compared[0]} vs Euler ${compared[1]}`);
    });

    await t.test('error vs NFE: a curve per schedule, the same numbers as compare', async () => {
      await page.click('#sweep-run');
      await page.waitForSelector('body[data-compare="done"], body[data-compare="error"]', { timeout: TIMEOUT });
      await page.waitForFunction(() => document.body.dataset.compare !== 'running', null, { timeout: TIMEOUT });
      assert.equal(await page.getAttribute('body', 'data-compare'), 'done', await page.textContent('#compare-status'));
      const curves = await page.evaluate(() => window.sweepLast);
      assert.deepEqual(curves.map((c) => c.schedule), ['polynomial:7', 'logsnr', 'uniform', 'kl_optimal', 'flow_shift:3', 'gits', 'gits-paper']);
      const poly = curves[0];
      assert.deepEqual(poly.nfes, [3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(poly.l2.at(-1), compared[0], 'iPNDM, polynomial, NFE 10: as in compare');
      for (const c of curves) assert.ok(c.l2.at(-1) < c.l2[0], `${c.schedule}: NFE 10 beats NFE 3`);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/playground-compare.png', fullPage: true });
    });

    await t.test('a solver that spends 2 NFE per step gets the NFEs it can reach', async () => {
      await page.selectOption('#controls [name="solver"]', 'heun');
      await page.click('#sweep-run');
      await page.waitForFunction(() => document.body.dataset.compare !== 'running' && window.sweepLast?.[0].nfes[0] === 4, null, { timeout: TIMEOUT });
      const curves = await page.evaluate(() => window.sweepLast);
      assert.deepEqual(curves[0].nfes, [4, 6, 8, 10]);
    });

    await t.test('a bad configuration B is named in the message', async () => {
      await page.fill('#compare [name="b-nfe"]', '0');
      await page.click('#compare-run');
      await page.waitForSelector('body[data-compare="error"]');
      assert.match(await page.textContent('#compare-status'), /configuration B: nfe must be an integer in 1\.\.200, got "0"/);
    });

    await t.test("compare: the shipped GITS schedule beside the one with the paper's cost", async () => {
      await openPage(page, `${site.url}?backend=cpu&model=gmm&batch=64&solver=ipndm&schedule=gits&nfe=6&b-solver=ipndm&b-schedule=gits-paper&b-nfe=6`, TIMEOUT);
      await page.waitForSelector('body[data-compare="done"], body[data-compare="error"]', { timeout: TIMEOUT });
      assert.equal(await page.getAttribute('body', 'data-compare'), 'done', await page.textContent('#compare-status'));
      const [a, b] = await page.evaluate(() => window.compareLast.map((m) => m.l2));
      assert.ok(a > 0 && b > 0 && a !== b, `GITS ${a} vs the paper's cost ${b}`);
      const sigmas = await page.evaluate(() => window.compareLast.map((m) => Array.from(m.shown.r.stepSigmas)));
      assert.notDeepEqual(sigmas[0], sigmas[1]);
      assert.match(await page.textContent('#compare-b-caption'), /ipndm:?4? on gits-paper, NFE 6/);
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
