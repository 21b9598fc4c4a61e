// A CPU sampling job split over several workers in headless Chromium: the samples, every step
// and every evaluation are bit-identical to one worker's for the same seed; the digit grid
// fills in piece by piece before the whole batch is done; the page's GITS warmup split the same
// way gives the same file; stochastic plans (each sample its own step noise) split the same way;
// bad counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelGits, launch, openPage, runGits, serveDist } from './harness.mjs';

const TIMEOUT = 180_000;
const site = serveDist();

/** Samples with the page's URL `query` on the CPU; the result's arrays as plain lists. */
async function run(page, query) {
  const shown = await openPage(page, `${site.url}?backend=cpu&${query}`, TIMEOUT);
  assert.equal(shown.state, 'ready', shown.result);
  return page.evaluate(() => {
    const r = window.last;
    const marks = Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]));
    return { samples: [...r.samples], steps: [...r.steps], evals: [...r.evals], batch: r.batch, marks, rows: document.body.dataset.rowsShown, workers: window.engine.workers };
  });
}

/** Equal to the bit, array by array (a plain deepEqual reports 100k-element diffs badly). */
function assertIdentical(a, b, what) {
  for (const k of ['samples', 'steps', 'evals']) {
    assert.equal(a[k].length, b[k].length, `${what}: ${k} lengths`);
    const i = a[k].findIndex((v, j) => !Object.is(v, b[k][j]));
    assert.equal(i, -1, `${what}: ${k}[${i}] differs: ${a[k][i]} vs ${b[k][i]}`);
  }
}

test('CPU jobs split over workers', { timeout: 900_000 }, async (t) => {
  const { browser, page, errors } = await launch(false);
  try {
    await t.test('digits: three workers give one worker\'s samples, steps and evaluations to the bit', async () => {
      const one = await run(page, 'model=mnist&batch=20&nfe=6&workers=1');
      const three = await run(page, 'model=mnist&batch=20&nfe=6&workers=3');
      assert.equal(three.workers, 3);
      assertIdentical(one, three, 'mnist');
      assert.equal(three.rows, '20', 'every row was shown');
      // The first piece was drawn before the whole batch was done.
      assert.ok(three.marks['gits:first-rows'] < three.marks['gits:sample-drawn'], JSON.stringify(three.marks));
      assert.match(page.url(), /workers=3/, 'the worker count stays in the URL');
    });

    await t.test('2-D mixture: two workers equal one, for a batch that does not divide evenly', async () => {
      assertIdentical(await run(page, 'model=gmm&batch=203&nfe=8&solver=dpmpp:2&workers=1'), await run(page, 'model=gmm&batch=203&nfe=8&solver=dpmpp:2&workers=2'), 'gmm');
    });

    await t.test('stochastic plans split too: each sample has its own step noise, so four workers equal one', async () => {
      for (const q of ['solver=ddim_eta:1', 'solver=euler_ancestral', 'solver=dpmpp_sde&nfe=8', 'solver=dpmpp_2m_sde:0.7&noise=fresh']) {
        const one = await run(page, `model=gmm&batch=64&${q}&workers=1`);
        const four = await run(page, `model=gmm&batch=64&${q}&workers=4`);
        assert.equal(four.workers, 4);
        assertIdentical(one, four, q);
      }
    });

    await t.test("the page's GITS search with its warmup on three workers writes one worker's file", async () => {
      const search = async (workers) => {
        assert.equal((await openPage(page, `${site.url}?backend=cpu&model=gmm&batch=16&workers=${workers}`, TIMEOUT)).state, 'ready');
        await page.selectOption('select[name="gits-cost"]', 'propagated');
        const file = await runGits(page, TIMEOUT);
        return { schedules: file.schedules.map((f) => [f.gamma, f.indices, f.cost, f.student ?? null]), cost: file.cost, propagation: file.propagation ?? null };
      };
      const [one, three] = [await search(1), await search(3)];
      assert.ok(one.schedules.length >= 8 && one.cost.length > 0);
      assert.deepEqual(three, one);
      await cancelGits(page, TIMEOUT); // a split search cancels too
    });

    await t.test('a bad worker count is refused with a message', async () => {
      const shown = await openPage(page, `${site.url}?backend=cpu&model=gmm&workers=0`, TIMEOUT);
      assert.equal(shown.state, 'error');
      assert.match(shown.result, /workers must be a whole number from 1 to 16, got "0"/);
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
