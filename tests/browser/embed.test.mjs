// The embeddable widget: the example page renders two widgets (and one in an iframe), widgets of
// a page share one sampling worker, controls resample, bad attributes show a message and never
// markup; the playground and the widgets work under a strict CSP. CPU fallback (fast and
// deterministic here). Run after `bash build.sh` (npm test does).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { CSP, serve } from '../../www/serve.mjs';
import { launch, settledWidgets } from './harness.mjs';

const TIMEOUT = 180_000;
let plain;
let strict;
const at = (server, path) => `http://127.0.0.1:${server.address().port}/${path}`;

before(async () => {
  plain = await serve('dist');
  strict = await serve('dist', 0, { 'Content-Security-Policy': CSP });
});

after(() => {
  plain?.close();
  strict?.close();
});

test('the embed example renders its widgets, and controls resample', { timeout: 300_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    await page.goto(at(plain, 'embed-example.html'));
    const widgets = await settledWidgets(page, TIMEOUT);
    assert.deepEqual(widgets.map((w) => w.state), ['ready', 'ready'], JSON.stringify(widgets));
    assert.match(widgets[0].caption, /128 samples, euler on polynomial:7, NFE 6/);
    assert.match(widgets[1].caption, /128 samples, ipndm on gits, NFE 6/);
    const frame = page.frames().find((f) => f.url().includes('embed.html'));
    await frame.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('gits-sampler')?.dataset.state), null, { timeout: TIMEOUT });
    assert.match(await frame.evaluate(() => document.querySelector('gits-sampler').shadowRoot.querySelector('p').textContent), /9 digits, ipndm on polynomial:7, NFE 8/);
    mkdirSync('test-results', { recursive: true });
    await page.waitForTimeout(2500); // the autoplaying widget reaches its last frame
    await page.screenshot({ path: 'test-results/embed-example.png', fullPage: true });

    // The second widget's controls: Euler instead of iPNDM, same noise, other samples.
    const before = await page.evaluate(() => Array.from(document.querySelectorAll('gits-sampler')[1].last.samples));
    await page.evaluate(() => {
      const root = document.querySelectorAll('gits-sampler')[1].shadowRoot;
      root.querySelector('select[name="solver"]').value = 'euler';
      root.querySelector('button').click();
    });
    await page.waitForFunction(() => /euler on gits/.test(document.querySelectorAll('gits-sampler')[1].shadowRoot.querySelector('p').textContent), null, { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('gits-sampler:nth-of-type(2)', 'solver'), 'euler');
    const after = await page.evaluate(() => Array.from(document.querySelectorAll('gits-sampler')[1].last.samples));
    assert.equal(after.length, before.length);
    assert.notDeepEqual(after, before);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('widgets of one page share one sampling engine; bad attributes are shown as text', { timeout: 300_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  let workers = 0;
  page.on('worker', () => workers++);
  try {
    await page.goto(at(plain, 'embed.html?model=moons-kde&nfe=5&batch=32'));
    await page.evaluate(() => {
      for (const attrs of [{ model: 'gmm', solver: 'heun', nfe: '6' }, { model: 'nope' }, { model: 'gmm', solver: '<img src=x onerror=alert(1)>' }]) {
        const w = document.createElement('gits-sampler');
        for (const [k, v] of Object.entries(attrs)) w.setAttribute(k, v);
        document.body.append(w);
      }
    });
    const widgets = await settledWidgets(page, TIMEOUT);
    assert.deepEqual(widgets.map((w) => w.state), ['ready', 'ready', 'error', 'error'], JSON.stringify(widgets));
    // One engine for every widget: its worker and, on the CPU, a helper per further core (up to 4 in all).
    const cores = await page.evaluate(() => Math.min(Math.max(1, navigator.hardwareConcurrency || 1), 4));
    assert.equal(workers, cores, 'one sampling engine (its workers) for every widget of the page');
    assert.match(widgets[2].caption, /unknown model "nope"/);
    assert.match(widgets[3].caption, /unknown solver "<img src=x onerror=alert\(1\)>"/);
    assert.equal(await page.evaluate(() => document.querySelectorAll('gits-sampler')[3].shadowRoot.querySelectorAll('img').length), 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('the playground and the widgets work under the strict CSP (nothing inline, no style-src exception)', { timeout: 300_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  const violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  try {
    const response = await page.goto(at(strict, '?backend=cpu&model=moons-mlp&nfe=6&batch=32'));
    assert.equal(response.headers()['content-security-policy'], CSP);
    await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('body', 'data-state'), 'ready', await page.textContent('#result'));
    await page.goto(at(strict, 'embed-example.html'));
    const widgets = await settledWidgets(page, TIMEOUT);
    assert.deepEqual(widgets.map((w) => w.state), ['ready', 'ready'], JSON.stringify(widgets));
    assert.deepEqual(violations, []);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
