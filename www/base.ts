// Where the shipped files live: the worker, the wasm modules, the models and schedules. By
// default next to this module (the bundles sit in the same folder as pkg/, models/ and
// schedules/); a page that bundles the widget into its own script points it elsewhere.
let base = new URL('./', import.meta.url);

/** `path` (e.g. `worker.js`, `models/x.gsw`) under the files' base. */
export function assetUrl(path: string): URL {
  return new URL(path, base);
}

/** Moves the base to `url` (relative to the page; a trailing slash is added). It must be on the
 * page's origin, since browsers start workers only from there; call it before the first sample. */
export function setAssetBase(url: string): void {
  const next = new URL(url.endsWith('/') ? url : `${url}/`, document.baseURI);
  if (next.origin !== location.origin) throw new Error(`the gits-sampler files must be on this page's origin (${location.origin}), not ${next.origin}`);
  base = next;
}

/** The Trusted Types policy pages under `require-trusted-types-for 'script'` need before a
 * worker starts: it passes only the worker's own URL (docs/embed.md). */
type Policy = { createScriptURL(url: string): unknown };
let policy: Policy | undefined;

/** The sampling worker's URL, as a TrustedScriptURL where the page enforces Trusted Types. */
export function workerUrl(): string | URL {
  const url = assetUrl('worker.js');
  const tt = (globalThis as { trustedTypes?: { createPolicy(name: string, rules: { createScriptURL(u: string): string }): Policy } }).trustedTypes;
  if (!tt) return url;
  policy ??= tt.createPolicy('gits-sampler', {
    createScriptURL: (u) => {
      if (u !== assetUrl('worker.js').href) throw new Error(`gits-sampler starts only its own worker, not ${u}`);
      return u;
    },
  });
  return policy.createScriptURL(url.href) as string;
}
