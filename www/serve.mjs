// A small static server for dist/ on localhost with the right MIME types (application/wasm).
// Usage: node www/serve.mjs [dir] [port]; tests import { serve } from it.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The policy the page, the widget and embed.html are tested under and `npm start` sends:
 * nothing inline (scripts or styles), nothing from other origins, wasm allowed. */
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'self'";

/** Serves `dir` on 127.0.0.1:`port` (0 = any free port; loopback only) with extra response
 * `headers` (e.g. a Content-Security-Policy); resolves to the listening server. Only files under
 * `dir` are served; a path that does not decode is a 400, never a crash. */
export function serve(dir, port = 0, headers = {}) {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      res.writeHead(400, { 'X-Content-Type-Options': 'nosniff' }).end('bad request path');
      return;
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + '/')) {
      res.writeHead(403, { 'X-Content-Type-Options': 'nosniff' }).end('forbidden');
      return;
    }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...headers });
      res.end(body);
    } catch {
      res.writeHead(404, { 'X-Content-Type-Options': 'nosniff' }).end('not found');
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? 'dist';
  const port = Number(process.argv[3] ?? process.env.PORT ?? 8080);
  const server = await serve(dir, port, { 'Content-Security-Policy': CSP });
  console.log(`gits-sampler: serving ${dir}/ at http://127.0.0.1:${server.address().port}/ (Ctrl-C to stop)`);
}
