// The schedule lab in headless Chromium (CPU; the exact 2-D mixture, so each sample is quick):
// a keyboard drag changes the URL, the samples and the error readout; a drag that would break
// the schedule is refused with a message and changes nothing; each notation imports, and each
// download format imports back to the sigmas it holds; the edited schedule is compare's B side
// and survives a reload from its URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { launch, openPage, serveDist } from './harness.mjs';

const TIMEOUT = 180_000;
const site = serveDist();

const sigmasInUrl = (page) => page.evaluate(() => new URLSearchParams(location.search).get('sigmas'));
const shownSigmas = (page) => page.evaluate(() => window.last.plan.sigmas);

/** Waits until the lab has measured the schedule `sigmas`; its readout. */
async function measured(page, sigmas) {
  await page.waitForFunction((want) => JSON.stringify(window.labLast?.sigmas) === JSON.stringify(want) && document.body.dataset.lab === 'ready', sigmas, { timeout: TIMEOUT });
  return page.evaluate(() => window.labLast);
}

/** Imports `text` in the lab; the message it gave and the sigmas sampled after. */
async function importText(page, text, zeroToSigmaMin = false) {
  if (!(await page.evaluate(() => document.querySelector('#lab-import-view').open))) await page.click('#lab-import-view > summary');
  await page.fill('#lab-import-text', text);
  await page.setChecked('#lab-zero', zeroToSigmaMin);
  await page.evaluate(() => { document.querySelector('#lab-message').dataset.kind = ''; });
  await page.click('#lab-import');
  await page.waitForSelector('#lab-message[data-kind="imported"], #lab-message[data-kind="refused"]', { timeout: TIMEOUT });
  const message = await page.textContent('#lab-message');
  if ((await page.getAttribute('#lab-message', 'data-kind')) === 'refused') return { message, sigmas: null };
  await page.waitForFunction(() => new URLSearchParams(location.search).get('schedule') === 'custom');
  await page.waitForFunction((n) => document.body.dataset.state === 'ready' && window.last.plan.sigmas.length === n, (await page.evaluate(() => new URLSearchParams(location.search).get('sigmas').split(',').length)), { timeout: TIMEOUT });
  return { message, sigmas: await shownSigmas(page) };
}

test('the schedule lab', { timeout: 600_000 }, async (t) => {
  const { browser, page, errors } = await launch(false);
  await page.setViewportSize({ width: 1000, height: 1600 });
  try {
    const shown = await openPage(page, `${site.url}?backend=cpu&model=gmm&nfe=10&batch=64`, TIMEOUT);
    assert.equal(shown.state, 'ready', shown.result);
    await page.click('#lab > summary');
    const polynomial = await shownSigmas(page);
    const first = await measured(page, polynomial);
    assert.equal(first.current, first.polynomial, 'the polynomial schedule is its own baseline');
    assert.ok(first.gits > 0 && first.gits !== first.current, `GITS measured: ${first.gits}`);

    await t.test('each download imports back to the sigmas it holds', async () => {
      const positive = polynomial.filter((s) => s > 0);
      const want = { json: polynomial, kdiffusion: [...positive, 0], diffusers: positive, comfyui: [...positive, 0] };
      const texts = {};
      for (const format of Object.keys(want)) {
        const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#lab-${format}`)]);
        texts[format] = readFileSync(await download.path(), 'utf8');
      }
      assert.match(texts.comfyui, /^80, .*, 0$/);
      for (const [format, sigmas] of Object.entries(want)) {
        const got = await importText(page, texts[format]);
        assert.deepEqual(got.sigmas, sigmas, `${format}: ${got.message}`);
      }
    });

    await t.test('a keyboard drag changes the URL, the samples and the readout', async () => {
      await importText(page, JSON.stringify(polynomial));
      const before = await measured(page, polynomial);
      await page.focus('#lab-chart');
      for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowRight');
      assert.match(await page.textContent('#lab-point'), /^point 3 of 10: sigma /);
      await page.keyboard.press('ArrowDown');
      const want = polynomial.map((s, i) => (i === 3 ? Number((s * 10 ** -0.02).toPrecision(4)) : s));
      await page.waitForFunction((w) => new URLSearchParams(location.search).get('sigmas') === w, want.join(','), { timeout: TIMEOUT });
      const after = await measured(page, want);
      assert.deepEqual(await shownSigmas(page), want);
      assert.notEqual(after.current, before.current, 'the edited schedule has its own error');
      assert.equal(after.polynomial, before.polynomial, 'the baseline is the same noise, measured once');
      assert.match(await page.textContent('#lab-readout'), /this schedule \(custom\)/);
    });

    await t.test('an edit that breaks the schedule is refused with a message', async () => {
      const url = await sigmasInUrl(page);
      await page.focus('#lab-chart');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft'); // point 1
      for (let k = 0; k < 3; k++) await page.keyboard.press('Shift+ArrowUp');
      assert.equal(await page.getAttribute('#lab-message', 'data-kind'), 'refused');
      assert.match(await page.textContent('#lab-message'), /sigma 1 must stay below sigma 0 = 80\.00: a schedule decreases strictly/);
      await page.keyboard.press('a'); // not an edit key: nothing happens
      await page.waitForTimeout(600); // longer than an edit takes to settle
      const kept = (await sigmasInUrl(page)).split(',').map(Number);
      assert.ok(kept[1] < 80 && kept[1] > kept[2], `sigma 1 moved within its neighbours only: ${kept}`);
      assert.equal(kept.length, url.split(',').length);
      await page.keyboard.press('ArrowLeft'); // point 0
      await page.keyboard.press('Delete');
      assert.match(await page.textContent('#lab-message'), /the first point is where sampling starts/);
    });

    await t.test('a pointer drag moves a point, and stops at its neighbour', async () => {
      const before = (await sigmasInUrl(page)).split(',').map(Number);
      const [x, y] = await page.evaluate(() => window.lab.editor.clientPoint(2));
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x, y + 15, { steps: 3 });
      await page.mouse.up();
      await page.waitForFunction((w) => new URLSearchParams(location.search).get('sigmas') !== w, before.join(','), { timeout: TIMEOUT });
      const dragged = (await sigmasInUrl(page)).split(',').map(Number);
      assert.ok(dragged[2] < before[2] && dragged[2] > before[3], `point 2 moved down between its neighbours: ${before[2]} -> ${dragged[2]}`);
      assert.deepEqual(dragged.filter((_, i) => i !== 2), before.filter((_, i) => i !== 2));
      await measured(page, dragged);
      // Dragged far past point 1: refused, the point stays below it.
      const [x2, y2] = await page.evaluate(() => window.lab.editor.clientPoint(2));
      await page.mouse.move(x2, y2);
      await page.mouse.down();
      await page.mouse.move(x2, y2 - 400, { steps: 4 });
      assert.match(await page.textContent('#lab-message'), /sigma 2 must stay below sigma 1/);
      await page.mouse.up();
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      const held = (await sigmasInUrl(page)).split(',').map(Number);
      assert.ok(held[2] < held[1], `the schedule still decreases: ${held}`);
      await measured(page, held);
    });

    await t.test('points are added and removed', async () => {
      const before = (await sigmasInUrl(page)).split(',').map(Number);
      await page.focus('#lab-chart');
      await page.keyboard.press('Home');
      await page.keyboard.press('ArrowRight'); // point 1
      await page.keyboard.press('+');
      await page.waitForFunction((n) => new URLSearchParams(location.search).get('sigmas').split(',').length === n, before.length + 1, { timeout: TIMEOUT });
      const added = (await sigmasInUrl(page)).split(',').map(Number);
      assert.ok(added[2] < before[1] && added[2] > before[2], `the new point lies between its neighbours: ${added}`);
      await page.keyboard.press('Delete');
      await page.waitForFunction((w) => new URLSearchParams(location.search).get('sigmas') === w, before.join(','), { timeout: TIMEOUT });
      await measured(page, before);
    });

    await t.test('each notation imports and says how it was read', async () => {
      const cases = [
        ["tensor([14.6146, 6.0650, 2.4627, 0.0292, 0.0000], device='cuda:0')", [14.6146, 6.065, 2.4627, 0.0292, 0], /PyTorch tensor printout.*final 0 is kept/],
        ['sigmas=[14.61, 6.07, 2.46, 0.5]', [14.61, 6.07, 2.46, 0.5], /diffusers' sigmas=.*stops there/],
        ['14.61, 6.07, 2.46, 0', [14.61, 6.07, 2.46, 0.002], /ManualSigmas.*replaced by the model's sigma_min 0.002/, true],
        ['[80, 10, 1, 0.1, 0.002]', [80, 10, 1, 0.1, 0.002], /a list/],
      ];
      for (const [text, sigmas, message, zero] of cases) {
        const got = await importText(page, text, zero);
        assert.deepEqual(got.sigmas, sigmas, got.message);
        assert.match(got.message, message);
      }
      const ddpm = await importText(page, 'timesteps=[999, 749, 499, 249]');
      assert.match(ddpm.message, /DDPM/);
      assert.equal(ddpm.sigmas.length, 5);
      assert.ok(Math.abs(ddpm.sigmas[0] - 157.4) < 0.5 && ddpm.sigmas[4] === 0, `${ddpm.sigmas}`);
      const bad = await importText(page, '[1, 2]');
      assert.equal(bad.sigmas, null);
      assert.match(bad.message, /Import failed: line 1, column 5: sigma 1 = 2 is not below sigma 0 = 1/);
      assert.deepEqual(await shownSigmas(page), ddpm.sigmas, 'a failed import changes nothing');
    });

    await t.test('the edited schedule is compare mode B, and reloads from its URL', async () => {
      const edited = await importText(page, '[80, 20, 5, 1, 0.2, 0.002]');
      await page.selectOption('select[name="b-schedule"]', 'custom');
      await page.selectOption('select[name="schedule"]', 'polynomial:7');
      await page.click('#compare-run');
      await page.waitForSelector('body[data-compare="done"], body[data-compare="error"]', { timeout: TIMEOUT });
      assert.equal(await page.getAttribute('body', 'data-compare'), 'done', await page.textContent('#compare-status'));
      assert.deepEqual(await page.evaluate(() => window.compareLast[1].shown.r.plan.sigmas), edited.sigmas);
      assert.equal(await page.evaluate(() => new URLSearchParams(location.search).get('b-schedule')), 'custom');
      await page.selectOption('select[name="schedule"]', 'custom');
      await page.click('button[type="submit"]');
      await page.waitForFunction(() => new URLSearchParams(location.search).get('schedule') === 'custom');
      await page.waitForSelector('body[data-state="ready"]');
      const url = page.url();
      const again = await openPage(page, url, TIMEOUT);
      assert.equal(again.state, 'ready', again.result);
      assert.deepEqual(await shownSigmas(page), edited.sigmas);
      assert.equal(await page.evaluate(() => document.querySelector('#lab').open), true, 'a URL with an edited schedule opens the lab');
      await measured(page, edited.sigmas);
      mkdirSync('test-results', { recursive: true });
      await page.locator('#lab').screenshot({ path: 'test-results/lab.png' });
    });

    await t.test('a bad sigma list in the URL is named', async () => {
      const r = await openPage(page, `${site.url}?backend=cpu&model=gmm&schedule=custom&sigmas=80,x,1`, TIMEOUT);
      assert.equal(r.state, 'error');
      assert.match(r.result, /sigma 1 must be a number/);
      const order = await openPage(page, `${site.url}?backend=cpu&model=gmm&schedule=custom&sigmas=1,2`, TIMEOUT);
      assert.equal(order.state, 'error');
      assert.match(order.result, /strictly decreasing/);
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
