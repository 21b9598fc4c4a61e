// The dev server (www/serve.mjs): files under its root only, malformed paths answered (never a
// crash), nosniff on every answer, loopback only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { serve } from '../../www/serve.mjs';

let server;
before(async () => { server = await serve('www'); });
after(() => server?.close());

/** A raw GET of `path` exactly as written (fetch would normalise it). */
function get(path) {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: server.address().port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => ok(res));
    });
    req.on('error', fail);
    req.end();
  });
}

test('the dev server answers hostile paths and stays up', async () => {
  assert.equal(server.address().address, '127.0.0.1');
  // ../package.json exists beside the served folder: neither spelling may reach it.
  for (const [path, status] of [['/%', 400], ['/%E0%A4%A', 400], ['/..%2fpackage.json', 403], ['/%2e%2e/package.json', 404], ['/no-such-file.js', 404]]) {
    const res = await get(path);
    assert.equal(res.statusCode, status, path);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
  }
  const ok = await get('/index.html');
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.headers['x-content-type-options'], 'nosniff');
  assert.match(ok.headers['content-type'], /text\/html/);
});
