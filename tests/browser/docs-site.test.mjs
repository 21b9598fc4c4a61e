// The widget as a package: `npm pack` of the built site, installed by examples/docs-site (a
// plain static site) as a file dependency; its page imports 'gits-sampler/widget' through the
// package's exports and embeds two widgets whose files sit under `base`, another page loads the
// packaged module as it is. Both under a strict CSP, with no console noise. CPU fallback.
// Run after `bash build.sh` (npm test does).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CSP, serve } from '../../www/serve.mjs';
import { launch, settledWidgets } from './harness.mjs';

const TIMEOUT = 180_000;
const DIR = 'examples/docs-site';
const run = (cmd, args, cwd = '.') => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
let packed;
let server;
const requests = [];

before(async () => {
  // dist/ is built already (npm test builds first), so the pack skips prepack's build.
  [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', DIR]));
  run('npm', ['install', '--no-package-lock', '--no-audit', '--no-fund', '--offline'], DIR);
  run('node', ['build.mjs'], DIR);
  server = await serve(`${DIR}/site`, 0, { 'Content-Security-Policy': CSP });
  server.on('request', (req) => requests.push(req.url));
});

after(() => server?.close());

const at = (path) => `http://127.0.0.1:${server.address().port}/${path}`;

test('the package holds the library part of the site and nothing else', () => {
  const dependency = JSON.parse(readFileSync(`${DIR}/package.json`, 'utf8')).dependencies['gits-sampler'];
  assert.equal(dependency, `file:${packed.filename}`, 'the example installs the tarball npm pack writes');
  const files = packed.files.map((f) => f.path).sort();
  for (const f of ['dist/gits-sampler-widget.js', 'dist/worker.js', 'dist/pkg/gits_sampler_webgpu_bg.wasm', 'dist/pkg/gits_sampler_cpu.js',
    'dist/models/mnist-unet.int8.gsw', 'dist/models/eight-gaussians.gmm.json', 'dist/schedules/mnist-unet.gits.json', 'dist/ort/ort.wasm.min.mjs', 'dist/ort/ort-wasm-simd-threaded.wasm', 'package.json']) {
    assert.ok(files.includes(f), `${f} is packed`);
  }
  const stray = files.filter((f) => !/^(dist\/(gits-sampler-widget\.js|worker\.js|pkg\/|models\/|schedules\/|ort\/)|docs\/embed\.md|package\.json|README\.md)/.test(f) || f.endsWith('.f32.gsw'));
  assert.deepEqual(stray, []);
});

test('a docs site bundles the package and embeds two widgets under a strict CSP', { timeout: 300_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    await page.goto(at('index.html'));
    const widgets = await settledWidgets(page, TIMEOUT);
    assert.deepEqual(widgets.map((w) => w.state), ['ready', 'ready'], JSON.stringify(widgets));
    assert.match(widgets[0].caption, /128 samples, euler on polynomial:7, NFE 6/);
    assert.match(widgets[1].caption, /128 samples, ipndm on gits, NFE 6/);
    // The bundled widget found its worker, wasm and files under base="gits-sampler/".
    for (const path of ['/gits-sampler/worker.js', '/gits-sampler/pkg/gits_sampler_cpu_bg.wasm', '/gits-sampler/schedules/eight-gaussians.gits.json']) {
      assert.ok(requests.includes(path), `${path} was requested: ${requests.join(', ')}`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('the packaged module also works as it is, finding its files next to itself', { timeout: 300_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    await page.goto(at('plain.html'));
    const widgets = await settledWidgets(page, TIMEOUT);
    assert.deepEqual(widgets.map((w) => w.state), ['ready'], JSON.stringify(widgets));
    assert.match(widgets[0].caption, /9 digits, ipndm on polynomial:7, NFE 8/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
