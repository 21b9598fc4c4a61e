// Builds the example site into site/: the page, its script bundled with esbuild (it imports
// 'gits-sampler/widget', resolved through the package's exports), and the package's files
// (worker, wasm, models) copied under site/gits-sampler/, where the widgets' `base` points.
// Run after `npm install` has put the packed tarball in node_modules/.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const site = join(here, 'site');
const pkg = join(here, 'node_modules', 'gits-sampler', 'dist');
rmSync(site, { recursive: true, force: true });
mkdirSync(site);
cpSync(join(here, 'src', 'index.html'), join(site, 'index.html'));
cpSync(join(here, 'src', 'plain.html'), join(site, 'plain.html'));
cpSync(pkg, join(site, 'gits-sampler'), { recursive: true });
await build({ entryPoints: [join(here, 'src', 'site.js')], bundle: true, format: 'esm', target: 'es2022', outfile: join(site, 'site.js'), logLevel: 'warning' });
console.log(`docs-site: built ${site}`);
