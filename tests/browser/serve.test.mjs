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

test('the dev server sends a precompressed sibling the browser accepts, never a stale one', async () => {
  const { mkdtempSync, writeFileSync, utimesSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { brotliDecompressSync, gunzipSync } = await import('node:zlib');
  const { precompress } = await import('../../www/precompress.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'serve-'));
  const body = Buffer.from('(module)'.repeat(500));
  writeFileSync(join(dir, 'm.wasm'), body);
  writeFileSync(join(dir, 'old.js'), 'x'.repeat(2000));
  precompress(dir);
  // old.js is rebuilt after its siblings were written: they must not be sent.
  utimesSync(join(dir, 'old.js.br'), new Date(1000), new Date(1000));
  utimesSync(join(dir, 'old.js.gz'), new Date(1000), new Date(1000));
  const local = await serve(dir);
  try {
    const fetchRaw = (path, accept) => new Promise((ok, fail) => {
      const req = request({ host: '127.0.0.1', port: local.address().port, path, headers: accept ? { 'Accept-Encoding': accept } : {} }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => ok({ res, bytes: Buffer.concat(chunks) }));
      });
      req.on('error', fail);
      req.end();
    });
    const br = await fetchRaw('/m.wasm', 'gzip, deflate, br');
    assert.equal(br.res.headers['content-encoding'], 'br');
    assert.equal(br.res.headers['content-type'], 'application/wasm');
    assert.equal(br.res.headers.vary, 'Accept-Encoding');
    assert.ok(brotliDecompressSync(br.bytes).equals(body));
    assert.ok(br.bytes.length < body.length / 10);
    const gz = await fetchRaw('/m.wasm', 'gzip;q=1.0');
    assert.equal(gz.res.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(gz.bytes).equals(body));
    const plain = await fetchRaw('/m.wasm');
    assert.equal(plain.res.headers['content-encoding'], undefined);
    assert.ok(plain.bytes.equals(body));
    const stale = await fetchRaw('/old.js', 'br, gzip');
    assert.equal(stale.res.headers['content-encoding'], undefined, 'a sibling older than its file is not sent');
    assert.equal(stale.bytes.toString(), 'x'.repeat(2000));
  } finally {
    local.close();
  }
});
