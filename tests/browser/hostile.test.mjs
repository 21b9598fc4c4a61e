// Hostile input in the browser: every function the wasm module exports, called with wrong
// types, extreme numbers and corrupted files, rejects with a message and never traps (and the
// module works afterwards); URL parameters with wrong types, padding, hex and markup are errors
// that name the parameter, and inject nothing; a corrupted served file is an error naming it,
// and once the good file is back the page samples again without a reload. CPU fallback.
// Run after `bash build.sh` (npm test does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, serveDist } from './harness.mjs';

const TIMEOUT = 180_000;
const site = serveDist();

test('every wasm export rejects hostile arguments with a message, never a trap', { timeout: 300_000 }, async () => {
  const { browser, page } = await launch(false);
  try {
    await openPage(page, site.url + '?backend=cpu', TIMEOUT);
    const outcomes = await page.evaluate(async () => {
      const { m, sampler } = await openSampler(false);
      const bytes = async (path) => new Uint8Array(await (await fetch(path)).arrayBuffer());
      const gmmText = await (await fetch('models/eight-gaussians.gmm.json')).text();
      const gmm = sampler.loadModel(new TextEncoder().encode(gmmText), 'models/eight-gaussians.gmm.json');
      const mlpBytes = await bytes('models/toy-moons.int8.gsw');
      // A weights file whose manifest is edited and re-framed with its new length.
      const reframe = (edit) => {
        const len = new DataView(mlpBytes.buffer).getUint32(8, true);
        const manifest = JSON.parse(new TextDecoder().decode(mlpBytes.subarray(12, 12 + len)));
        edit(manifest);
        const json = new TextEncoder().encode(JSON.stringify(manifest));
        const out = new Uint8Array(12 + json.length + mlpBytes.length - 12 - len);
        out.set(mlpBytes.subarray(0, 8));
        new DataView(out.buffer).setUint32(8, json.length, true);
        out.set(json, 12);
        out.set(mlpBytes.subarray(12 + len), 12 + json.length);
        return out;
      };
      const plan = gmm.plan('euler', 'polynomial:7', 4, false, false);
      const planJson = JSON.parse(plan.json);
      const gitsText = await (await fetch('schedules/eight-gaussians.gits.json')).text();
      const gitsJson = JSON.parse(gitsText);
      const noise = (n) => new Float64Array(n).fill(0.5);
      const cases = {
        'loadModel: empty': () => sampler.loadModel(new Uint8Array(0), 'x.gsw'),
        'loadModel: 100,000 tensors': () => sampler.loadModel(reframe((mf) => { mf.tensors = Array(100_000).fill(mf.tensors[0]); }), 'x.gsw'),
        'loadModel: 10,000,000 layers': () => sampler.loadModel(reframe((mf) => { mf.architecture.layers = 10_000_000; }), 'x.gsw'),
        'loadModel: huge shape': () => sampler.loadModel(reframe((mf) => { mf.tensors[0].shape = [8589934592, 8589934592]; }), 'x.gsw'),
        'loadModel: huge offset': () => sampler.loadModel(reframe((mf) => { mf.tensors[0].offset = 2 ** 53; }), 'x.gsw'),
        'loadModel: sigma_data 1e308': () => sampler.loadModel(reframe((mf) => { mf.sigma_data = 1e308; }), 'x.gsw'),
        'loadModel: sigma_max 1e308': () => sampler.loadModel(reframe((mf) => { mf.sigma_max = 1e308; }), 'x.gsw'),
        'loadModel: 100,000-point KDE': () => sampler.loadModel(new TextEncoder().encode(JSON.stringify({ kind: 'kde', points: Array(100_000).fill([0, 0]) })), 'k.json'),
        'loadModel: mean 1e300': () => sampler.loadModel(new TextEncoder().encode(JSON.stringify({ kind: 'gmm', weights: [1], means: [[1e300, 0]], variances: [1] })), 'g.json'),
        'plan: unknown solver': () => gmm.plan('nope', 'polynomial:7', 4, false, false),
        'plan: nfe 2^32 - 1': () => gmm.plan('euler', 'polynomial:7', 4294967295, false, false),
        'plan: nfe -1 with AFS': () => gmm.plan('euler', 'polynomial:7', -1, false, true),
        'plan: nfe 10^8': () => gmm.plan('euler', 'polynomial:7', 1e8, false, false),
        'plan: rho 1e308': () => gmm.plan('euler', 'polynomial:1e308', 4, false, false),
        'plan: schedule markup': () => gmm.plan('euler', '<img src=x onerror=alert(1)>', 4, false, false),
        'Plan.fromJson: not JSON': () => m.Plan.fromJson('{'),
        'Plan.fromJson: register 2^32 - 1': () => m.Plan.fromJson(JSON.stringify({ ...planJson, ops: [{ op: 'noise', out: 4294967295 }, ...planJson.ops] })),
        'Plan.fromJson: sigma 1e308': () => m.Plan.fromJson(JSON.stringify({ ...planJson, sigmas: [1e308, ...planJson.sigmas.slice(1)] })),
        // Finite coefficients load; sampling with them overflows and fails naming the step.
        'sample: plan with coefficients 1e308': () =>
          sampler.sample(m.Plan.fromJson(JSON.stringify({ ...planJson, ops: planJson.ops.map((op) => (op.op === 'combine' ? { ...op, terms: op.terms.map(([, r]) => [1e308, r]) } : op)) })), gmm, noise(4), new Uint32Array(0), 1, 0n),
        'GitsSchedules.load: garbage': () => m.GitsSchedules.load('[]', gmm),
        'GitsSchedules.load: steps 2^64': () => m.GitsSchedules.load(JSON.stringify({ ...gitsJson, schedules: [{ ...gitsJson.schedules[0], steps: 18446744073709551615 }] }).replace('18446744073709552000', '18446744073709551615'), gmm),
        'GitsSchedules.load: sha256 multibyte': () => m.GitsSchedules.load(JSON.stringify({ ...gitsJson, model: { id: 'x', sha256: 'é'.repeat(20) } }), gmm),
        'GitsSearch: warmup 10^9': () => new m.GitsSearch(gmm, { teacher: 'ipndm', grid: 'polynomial:61', warmup: 1e9, seed: 0, metric: 'l2', gammas: [1.15], minSteps: 1, maxSteps: 10 }),
        'GitsSearch: grid 2^64': () => new m.GitsSearch(gmm, { teacher: 'ipndm', grid: 'polynomial:18446744073709551615', warmup: 4, seed: 0, metric: 'l2', gammas: [1.15], minSteps: 1, maxSteps: 10 }),
        'GitsSearch: options null': () => new m.GitsSearch(gmm, null),
        'GitsSearch: options a string': () => new m.GitsSearch(gmm, 'x'),
        'planOn: increasing sigmas': () => gmm.planOn('euler', new Float64Array([1, 2]), false),
        'planOn: NaN sigma': () => gmm.planOn('euler', new Float64Array([80, NaN, 1]), false),
        'planOn: 200,001 sigmas': () => gmm.planOn('euler', new Float64Array(200_001).map((_, i) => 80 - i * 1e-4), false),
        'importSigmas: empty': () => gmm.importSigmas('', false),
        'importSigmas: 9 MB': () => gmm.importSigmas('1, '.repeat(3_000_000), false),
        'importSigmas: multibyte garbage': () => gmm.importSigmas('tensor([é, ∞])', true),
        'exportSigmas: unknown format': () => m.exportSigmas(new Float64Array([2, 1]), 'csv'),
        'exportSigmas: not decreasing': () => m.exportSigmas(new Float64Array([1, 2]), 'json'),
        'GitsSchedules.costMap: gamma NaN': () => m.GitsSchedules.load(gitsText, gmm).costMap(NaN),
        'GitsSchedules.costMap: no cost kept': () => m.GitsSchedules.load(JSON.stringify({ ...gitsJson, cost: undefined }), gmm).costMap(1.15),
        'GitsSchedules.load: cost rows cut': () => m.GitsSchedules.load(JSON.stringify({ ...gitsJson, cost: gitsJson.cost.slice(1) }), gmm),
        'standardNormal: 2^20 x 2^20': () => m.standardNormal(0n, 2 ** 20, 2 ** 20),
        'standardNormal: 0 x 5': () => m.standardNormal(0n, 0, 5),
        'meanL2: dim 0': () => m.meanL2(new Float32Array(4), new Float32Array(4), 0),
        'mmdToExact: a network': () => sampler.loadModel(mlpBytes, 'toy.gsw').mmdToExact(new Float32Array(8), 0.002),
        'mmdToExact: one sample': () => gmm.mmdToExact(new Float32Array(2), 0.002),
        'mmdToExact: sigma NaN': () => gmm.mmdToExact(new Float32Array(8), NaN),
        'Plan.withNoise: unknown source': () => plan.withNoise('pink'),
        'plan: beta with NaN': () => gmm.plan('euler', 'beta:NaN', 10, false, false),
        'plan: flow_shift 0': () => gmm.plan('euler', 'flow_shift:0', 10, false, false),
        'meanL2: lengths differ': () => m.meanL2(new Float32Array(4), new Float32Array(2), 2),
        'projectTrajectory: empty': () => m.projectTrajectory(new Float64Array(0), new Float64Array(0), 0),
        'projectTrajectory: NaN': () => m.projectTrajectory(new Float64Array([NaN, 1, 2, 3]), new Float64Array([1, 2]), 2),
        'sample: noise of a wrong length': () => sampler.sample(plan, gmm, noise(3), new Uint32Array(0), 1, 0n),
        'sample: NaN noise': () => sampler.sample(plan, gmm, new Float64Array([NaN, 0]), new Uint32Array(0), 1, 0n),
        'sample: guidance 1e308': () => sampler.sample(plan, sampler.loadModel(mlpBytes, 'toy.gsw'), noise(2), new Uint32Array(0), 1e308, 0n),
        'inspectOnnx: empty': () => m.inspectOnnx(new Uint8Array(0)),
        'inspectOnnx: pseudo-random bytes': () => m.inspectOnnx(new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24)),
        'inspectOnnx: varint of 11 bytes': () => m.inspectOnnx(new Uint8Array([0x08, ...Array(11).fill(0xff)])),
        'inspectOnnx: length past the end': () => m.inspectOnnx(new Uint8Array([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])),
        'loadOnnx: not ONNX': () => sampler.loadOnnx(new Uint8Array([1, 2, 3]), 'x.onnx', undefined, undefined, () => {}),
        'loadOnnx: card markup': () => sampler.loadOnnx(new Uint8Array(0), 'x.onnx', '<img src=x onerror=alert(1)>', undefined, () => {}),
        'loadOnnx: scheduler config garbage': () => sampler.loadOnnx(new Uint8Array(0), 'x.onnx', undefined, '{"num_train_timesteps": 1e300}', () => {}),
        'sample: 10^8 noise numbers on a long plan': () => sampler.sample(gmm.plan('euler', 'polynomial:7', 5000, false, false), gmm, noise(2e6), new Uint32Array(0), 1, 0n),
      };
      const out = {};
      for (const [name, call] of Object.entries(cases)) {
        try {
          await call();
          out[name] = 'accepted';
        } catch (e) {
          out[name] = e instanceof WebAssembly.RuntimeError ? `TRAP: ${e.message}` : String(e?.message ?? e);
        }
      }
      // Afterwards the module still samples.
      const r = await sampler.sample(plan, gmm, noise(4), new Uint32Array(0), 1, 0n);
      out.after = r.samples.every(Number.isFinite) ? 'samples' : 'non-finite samples';
      return out;
    });
    for (const [name, outcome] of Object.entries(outcomes)) {
      if (name === 'after') continue;
      assert.doesNotMatch(outcome, /^TRAP|unreachable|^accepted$/, `${name}: ${outcome}`);
      assert.ok(outcome.length > 10, `${name}: the message says too little: ${outcome}`);
    }
    assert.equal(outcomes.after, 'samples');
  } finally {
    await browser.close();
  }
});

test('bad URL parameters are errors that name the parameter and inject nothing', { timeout: 300_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  const cases = [
    ['nfe=0x10', 'nfe'],
    ['nfe=%207', 'nfe'],
    ['nfe=1e1', 'nfe'],
    ['seed=-1', 'seed'],
    ['batch=99999999999999999999', 'batch'],
    ['guidance=0x1', 'guidance'],
    ['guidance=Infinity', 'guidance'],
    ['backend=gpu', 'backend'],
    ['solver=%3Cimg%20src%3Dx%20onerror%3Dwindow.hacked%3D1%3E', 'solver'],
    ['schedule=%3Cscript%3Ewindow.hacked%3D1%3C%2Fscript%3E', 'schedule'],
    ['label=%3Cb%3Ex%3C%2Fb%3E', 'class'],
  ];
  try {
    for (const [query, name] of cases) {
      const shown = await openPage(page, `${site.url}?backend=cpu&${query}`.replace('backend=cpu&backend', 'backend'), TIMEOUT);
      assert.equal(shown.state, 'error', `${query}: ${shown.result}`);
      assert.match(shown.result, new RegExp(name), `${query}: ${shown.result}`);
      assert.equal(await page.evaluate(() => window.hacked ?? null), null, query);
      assert.equal(await page.locator('#result img, #result b, #result script').count(), 0, query);
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('a corrupted served model or schedule is an error naming it; the good file then works without a reload', { timeout: 300_000 }, async () => {
  const { browser, page } = await launch(false);
  try {
    for (const [path, query, body] of [
      ['models/eight-gaussians.gmm.json', '', '{"kind": "gmm", "weights": [1], "means": [[0, 0]], "variances": [-1]}'],
      ['models/eight-gaussians.gmm.json', '', 'not json at all'],
      ['models/toy-moons.int8.gsw', 'model=moons-mlp', 'GITSWTS1\xff\xff\xff\xff'],
      ['schedules/eight-gaussians.gits.json', 'schedule=gits', '{"version": 1, "schedules": 7}'],
    ]) {
      const pattern = `**/${path}`;
      await page.route(pattern, (route) => route.fulfill({ status: 200, body }));
      const shown = await openPage(page, `${site.url}?backend=cpu&${query}`, TIMEOUT);
      assert.equal(shown.state, 'error', `${path}: ${shown.result}`);
      assert.match(shown.result, new RegExp(path.split('/').pop().replace(/\./g, '\\.')), `${path}: the message does not name the file: ${shown.result}`);
      await page.unroute(pattern);
      await page.click('button[type="submit"]');
      const recovered = await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 }).then(() => true, () => false);
      assert.ok(recovered, `${path}: after the good file is back: ${await page.textContent('#result')}`);
    }
  } finally {
    await browser.close();
  }
});

test('a lost WebGPU device: the page says so and samples on the CPU without a reload', { timeout: 300_000 }, async () => {
  const { browser, page } = await launch(true);
  try {
    const first = await openPage(page, site.url, TIMEOUT);
    assert.equal(first.state, 'ready', first.result);
    assert.equal(first.backend, 'webgpu', first.status);
    await page.evaluate(() => window.engine.destroyDevice().catch(() => null));
    await page.waitForSelector('body[data-backend="cpu"][data-state="ready"]', { timeout: TIMEOUT });
    assert.match(await page.textContent('#status'), /WebGPU device was lost .*moved to the CPU/);
    await page.click('button[type="submit"]');
    await page.waitForSelector('body[data-state="ready"]', { timeout: TIMEOUT });
    assert.ok(await page.evaluate(() => window.last.samples.every(Number.isFinite)));
  } finally {
    await browser.close();
  }
});

/** 300 Generate presses in one page (CPU): the JS heap (after a forced GC) and the wasm memory,
 * measured every 25 presses, stay within a bound of where they were after the first 25. The
 * measurements are printed for bench/RESULTS.md. */
test('300 Generate presses hold their memory', { timeout: 600_000 }, async () => {
  const { browser, page, errors } = await launch(false);
  try {
    assert.equal((await openPage(page, site.url + '?backend=cpu', TIMEOUT)).state, 'ready');
    const cdp = await page.context().newCDPSession(page);
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    const rows = [];
    for (let press = 1; press <= 300; press++) {
      await page.click('button[type="submit"]');
      await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
      if (press % 25 === 0) {
        const wasm = await page.workers()[0].evaluate(() => self.wasmMemoryBytes());
        rows.push({ press, heapMB: (await heap()) / 2 ** 20, wasmMB: wasm / 2 ** 20 });
      }
    }
    console.log(`soak (presses, JS heap MB, wasm memory MB): ${rows.map((r) => `${r.press} ${r.heapMB.toFixed(2)} ${r.wasmMB.toFixed(1)}`).join('; ')}`);
    const [base, last] = [rows[0], rows.at(-1)];
    assert.ok(last.heapMB - base.heapMB < 8, `the JS heap grew from ${base.heapMB.toFixed(2)} to ${last.heapMB.toFixed(2)} MB`);
    assert.ok(last.wasmMB - base.wasmMB <= 16, `the wasm memory grew from ${base.wasmMB} to ${last.wasmMB} MB`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
