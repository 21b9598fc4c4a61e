// Writes FILE.br (brotli, quality 11) and FILE.gz (gzip -9) beside every compressible file of
// a built site, so a server can send the smallest encoding the browser accepts without
// compressing on each request (serve.mjs does; docs/hosting.md says how for static hosts).
// Usage: node www/precompress.mjs [dir] [cache-dir]; prints the sizes of the largest files.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, extname } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';

/** What is worth compressing: text, wasm and weights (PNG is compressed already). */
export const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.gsw', '.svg', '.bpk']);
const MIN_BYTES = 1024;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (COMPRESSIBLE.has(extname(path)) && statSync(path).size >= MIN_BYTES) yield path;
  }
}

/** Compresses every file under `dir`; returns [path, raw, brotli, gzip] per file. With a
 * `cache` folder, encodings are kept there by content hash, so an unchanged file (build.sh
 * copies every file anew) costs a hash, not another minute of brotli. */
export function precompress(dir, cache) {
  if (cache) mkdirSync(cache, { recursive: true });
  const sizes = [];
  for (const path of files(dir)) {
    const raw = readFileSync(path);
    const key = cache && join(cache, createHash('sha256').update(raw).digest('hex'));
    const encode = (suffix, make) => {
      const kept = key && existsSync(key + suffix) ? readFileSync(key + suffix) : make();
      if (key) writeFileSync(key + suffix, kept);
      writeFileSync(path + suffix, kept);
      return kept.length;
    };
    const br = encode('.br', () => brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }));
    const gz = encode('.gz', () => gzipSync(raw, { level: 9 }));
    sizes.push([path, raw.length, br, gz]);
  }
  return sizes;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = precompress(process.argv[2] ?? 'dist', process.argv[3]);
  const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
  for (const [path, raw, br, gz] of sizes.sort((a, b) => b[1] - a[1]).slice(0, 4)) console.log(`precompress: ${path}: ${kib(raw)}, brotli ${kib(br)}, gzip ${kib(gz)}`);
  console.log(`precompress: ${sizes.length} files`);
}
