// A small static server for dist/ on localhost with the right MIME types (application/wasm),
// sending a precompressed FILE.br or FILE.gz (www/precompress.mjs) where the browser accepts it.
// Usage: node www/serve.mjs [dir] [port] [--isolated]; tests import { serve } from it.
// --isolated sends COOP/COEP, so the page is cross-origin isolated (SharedArrayBuffer, threads).
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

/** Encodings a precompressed sibling may have, best first: [suffix, Content-Encoding]. */
const ENCODINGS = [['.br', 'br'], ['.gz', 'gzip']];

/** The body to send for `file`: its .br or .gz sibling when `accept` (Accept-Encoding) takes
 * that encoding and the sibling is not older than the file (a file rebuilt alone is sent as
 * it is), else the file itself; with the encoding used (undefined: none). */
async function encoded(file, accept) {
  const accepted = new Set(accept.split(',').map((e) => e.split(';')[0].trim().toLowerCase()));
  const built = (await stat(file)).mtimeMs;
  for (const [suffix, encoding] of ENCODINGS) {
    if (!accepted.has(encoding)) continue;
    const sibling = await stat(file + suffix).catch(() => undefined);
    if (sibling && sibling.mtimeMs >= built) return [await readFile(file + suffix), encoding];
  }
  return [await readFile(file), undefined];
}

/** Response headers that make a page cross-origin isolated. */
export const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

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
      const [body, encoding] = await encoded(file, req.headers['accept-encoding'] ?? '');
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      const coding = encoding ? { 'Content-Encoding': encoding, Vary: 'Accept-Encoding' } : {};
      res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...coding, ...headers });
      res.end(body);
    } catch {
      res.writeHead(404, { 'X-Content-Type-Options': 'nosniff' }).end('not found');
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2).filter((a) => a !== '--isolated');
  const isolated = args.length < process.argv.length - 2;
  const dir = args[0] ?? 'dist';
  const port = Number(args[1] ?? process.env.PORT ?? 8080);
  const server = await serve(dir, port, { 'Content-Security-Policy': CSP, ...(isolated ? ISOLATION : {}) });
  console.log(`gits-sampler: serving ${dir}/ at http://127.0.0.1:${server.address().port}/${isolated ? ', cross-origin isolated' : ''} (Ctrl-C to stop)`);
}
