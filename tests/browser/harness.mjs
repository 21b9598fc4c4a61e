// Shared by the browser tests: Debian's Chromium (never a downloaded browser) driven by
// playwright-core, the static server over dist/, and the native CLI for reference results.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { CSP, serve } from '../../www/serve.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const BASE_FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** A headless browser with WebGPU (SwiftShader here) or with WebGPU off. `errors` collects what
 * would show as noise in the console: uncaught errors, console.error messages, and requests that
 * failed or answered >= 400 (tests assert it stays empty). Its pages have `openSampler(webgpu)`:
 * the wasm module of that backend and a Sampler on it. */
export async function launch(webgpu) {
  const args = [...BASE_FLAGS, webgpu ? '--enable-unsafe-webgpu' : '--disable-webgpu'];
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  const page = await browser.newPage();
  await page.addInitScript(() => {
    globalThis.openSampler = async (webgpu) => {
      const m = await import(webgpu ? './pkg/gits_sampler_webgpu.js' : './pkg/gits_sampler_cpu.js');
      await m.default();
      return { m, sampler: webgpu ? await m.Sampler.webgpu() : m.Sampler.cpu('asked for by the test') };
    };
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
  // ERR_ABORTED is a request the page dropped itself (a test navigating on mid-load), not a failure.
  page.on('requestfailed', (r) => { if (r.failure()?.errorText !== 'net::ERR_ABORTED') errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`); });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  return { browser, page, errors };
}

/** Runs the native CLI (`cargo run`, the test build) with its stdout discarded. */
export function cli(args) {
  execFileSync('cargo', ['run', '--quiet', '--bin', 'gits-sampler', '--', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Max |a - b| between rows (native JSON) and a flat array (browser). */
export function maxAbsDiff(rows, flat) {
  assert.equal(rows.length * rows[0].length, flat.length, 'sample counts differ');
  return Math.max(...rows.flat().map((v, i) => Math.abs(v - flat[i])));
}

/** Loads `href` and waits for the playground to settle; what the page then says. */
export async function openPage(page, href, timeout = 180_000) {
  await page.goto(href);
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout });
  return {
    state: await page.getAttribute('body', 'data-state'),
    backend: await page.getAttribute('body', 'data-backend'),
    status: await page.textContent('#status'),
    result: await page.textContent('#result'),
  };
}

/** Waits until every widget of the page (not of iframes) is ready or failed; their states and
 * captions. */
export async function settledWidgets(page, timeout = 180_000) {
  await page.waitForFunction(() => [...document.querySelectorAll('gits-sampler')].every((w) => ['ready', 'error'].includes(w.dataset.state)), null, { timeout });
  return page.evaluate(() => [...document.querySelectorAll('gits-sampler')].map((w) => ({ state: w.dataset.state, caption: w.shadowRoot.querySelector('p').textContent })));
}

/** Serves dist/ on a free port for the calling test file; `site.url` is its address once the
 * file's tests run, `site.requests` the paths asked for so far. */
export function serveDist() {
  const site = { url: '', requests: [] };
  let server;
  before(async () => {
    server = await serve('dist', 0, { 'Content-Security-Policy': CSP });
    server.on('request', (req) => site.requests.push(req.url));
    site.url = `http://127.0.0.1:${server.address().port}/`;
  });
  after(() => server?.close());
  return site;
}

/** Starts the GITS panel's search and cancels it in the same task (a toy search can finish
 * between two separate clicks); checks that the panel says so. */
export async function cancelGits(page, timeout) {
  await page.evaluate(() => {
    document.querySelector('#gits-run').click();
    document.querySelector('#gits-cancel').click();
  });
  await page.waitForSelector('body[data-gits="cancelled"], body[data-gits="error"]', { timeout });
  assert.match(await page.textContent('#gits-status'), /Cancelled/);
}

/** Runs the GITS panel's search to its end; the schedule file it made. */
export async function runGits(page, timeout) {
  await page.click('#gits-run');
  await page.waitForSelector('body[data-gits="done"], body[data-gits="error"]', { timeout });
  assert.equal(await page.getAttribute('body', 'data-gits'), 'done', await page.textContent('#gits-status'));
  return JSON.parse(await page.evaluate(() => window.gitsFile));
}
