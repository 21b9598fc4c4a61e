// Stochastic solvers in the page (headless Chromium, CPU): the menu groups ODE and stochastic
// solvers, a stochastic one shows its parameters and the step-noise source, and they round-trip
// through the URL; compare mode measures stochastic samples by their kernel MMD to the exact
// distribution (B reuses A's noise: the same configuration gives the same samples), and claims
// no distance on a network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, serveDist } from './harness.mjs';

const TIMEOUT = 180_000;
const site = serveDist();

async function compared(page, query) {
  await openPage(page, `${site.url}?backend=cpu&${query}`, TIMEOUT);
  await page.waitForSelector('body[data-compare="done"], body[data-compare="error"]', { timeout: TIMEOUT });
  assert.equal(await page.getAttribute('body', 'data-compare'), 'done', await page.textContent('#compare-status'));
  return page.evaluate(() => window.compareLast.map((m) => ({ metric: m.metric, value: m.value, samples: Array.from(m.shown.r.samples) })));
}

test('stochastic solvers in the page', { timeout: 600_000 }, async (t) => {
  const { browser, page, errors } = await launch(false);
  try {
    await t.test('grouped menu, parameters and noise source, through the URL', async () => {
      const shown = await openPage(page, `${site.url}?backend=cpu&model=gmm&batch=64&solver=dpmpp_2m_sde:0.5&noise=fresh`, TIMEOUT);
      assert.equal(shown.state, 'ready', shown.result);
      assert.match(shown.result, /dpmpp_2m_sde:0\.5/);
      const groups = await page.$$eval('#controls select[name="solver"] optgroup', (gs) => gs.map((g) => g.label));
      assert.deepEqual(groups, ['ODE', 'stochastic']);
      assert.equal(await page.isHidden('#stochastic'), false);
      assert.equal(await page.inputValue('[name="p-eta"]'), '0.5');
      assert.equal(await page.inputValue('[name="noise"]'), 'fresh');
      assert.equal(await page.isHidden('[data-param="churn"]'), true);
      await page.fill('[name="p-eta"]', '0.8');
      await page.click('#controls button[type="submit"]');
      await page.waitForFunction(() => document.body.dataset.state === 'ready' && new URL(location.href).searchParams.get('solver') === 'dpmpp_2m_sde:0.8', null, { timeout: TIMEOUT });
      assert.equal(new URL(page.url()).searchParams.get('noise'), 'fresh');
      await page.selectOption('#controls select[name="solver"]', 'heun_churn');
      assert.equal(await page.isHidden('[data-param="churn"]'), false);
      assert.equal(await page.inputValue('[name="p-churn"]'), '40');
      await page.selectOption('#controls select[name="solver"]', 'ipndm');
      assert.equal(await page.isHidden('#stochastic'), true);
    });

    await t.test("ComfyUI's schedules from the menu: Align Your Steps' SD1 table, stretched, ends at 0", async () => {
      const shown = await openPage(page, `${site.url}?backend=cpu&model=gmm&batch=64&nfe=10&solver=euler_ancestral&schedule=ays:sd1`, TIMEOUT);
      assert.equal(shown.state, 'ready', shown.result);
      const sigmas = await page.evaluate(() => Array.from(window.last.stepSigmas));
      assert.equal(sigmas.length, 11);
      assert.equal(sigmas[0], 14.6146412293);
      assert.equal(sigmas[10], 0);
    });

    await t.test('a bad parameter in the URL is refused, naming it', async () => {
      const shown = await openPage(page, `${site.url}?backend=cpu&model=gmm&solver=euler_ancestral:5`, TIMEOUT);
      assert.match(shown.result, /euler_ancestral eta must be a number in 0\.\.2, got "5"/);
    });

    await t.test('compare: MMD to the exact distribution; B on A\'s configuration gives A\'s samples', async () => {
      const [a, b] = await compared(page, 'model=gmm&batch=256&nfe=10&solver=dpmpp_2m_sde&b-solver=euler_ancestral&b-schedule=polynomial:7&b-nfe=10');
      assert.deepEqual([a.metric, b.metric], ['mmd', 'mmd']);
      assert.ok(a.value > 0 && a.value < 1 && b.value > 0 && b.value < 1, `${a.value} ${b.value}`);
      assert.match(await page.textContent('#compare-status'), /kernel MMD to the exact distribution/);
      assert.match(await page.textContent('#compare-a-caption'), /MMD to the exact distribution 0\.\d+/);
      const [a2, b2] = await compared(page, 'model=gmm&batch=64&nfe=10&solver=dpmpp_2m_sde&b-solver=dpmpp_2m_sde&b-schedule=polynomial:7&b-nfe=10');
      assert.deepEqual(b2.samples, a2.samples, 'the same seeds: the same noise path');
      assert.equal(b2.value, a2.value);
    });

    await t.test('error vs NFE of a stochastic solver plots MMD', async () => {
      await openPage(page, `${site.url}?backend=cpu&model=gmm&batch=64&nfe=10&solver=euler_ancestral`, TIMEOUT);
      await page.click('#sweep-run');
      await page.waitForSelector('body[data-compare="done"], body[data-compare="error"]', { timeout: TIMEOUT });
      assert.equal(await page.getAttribute('body', 'data-compare'), 'done', await page.textContent('#compare-status'));
      assert.match(await page.textContent('#sweep-caption'), /kernel MMD to the exact distribution/);
      const curves = await page.evaluate(() => window.sweepLast);
      for (const c of curves) assert.ok(c.l2.every((v) => Number.isFinite(v) && v >= 0), `${c.schedule}: ${c.l2}`);
    });

    await t.test('on a network, a stochastic comparison claims no distance', async () => {
      const [a] = await compared(page, 'model=mnist&batch=4&nfe=4&solver=euler_ancestral&b-solver=euler&b-nfe=4');
      assert.equal(a.metric, 'none');
      assert.equal(a.value, null);
      assert.match(await page.textContent('#compare-status'), /no exact distribution/);
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
