// Your own model in the page: an ONNX file opened from disk (picked or dropped, with its card or
// its diffusers scheduler_config.json) or from this site (`?model=url:PATH&card=PATH`, the
// widget's `model` and `card` attributes), registered as a model of the page's catalogue.
import { boundedText } from './bounded.js';
import type { Engine } from './engine.js';
import { registerModel, type CatalogueEntry } from './models.js';
import type { OnnxInfo, OnnxInterface } from './protocol.js';

/** The catalogue entry of an opened model: images for [1 or 3, H, W], else points. */
function entry(id: string, info: OnnxInfo): CatalogueEntry {
  const [c] = info.sampleShape;
  const image = info.sampleShape.length === 3 && (c === 1 || c === 3);
  const label = `${info.name} (ONNX, ${info.sampleShape.join('x')})`;
  return { id, label, url: info.key, kind: image ? 'image' : 'points', shape: info.sampleShape, range: info.dataRange, classes: info.classes || undefined, onnx: info };
}

/** A same-origin URL for `path` (browsers start no cross-origin worker, and the page fetches
 * nothing from elsewhere), else an error naming it. */
function sameOrigin(path: string, what: string): string {
  let url: URL;
  try {
    url = new URL(path, document.baseURI);
  } catch {
    throw new Error(`${what} "${path}" is not a URL`);
  }
  if (url.origin !== location.origin) throw new Error(`${what} "${path}" must be on this site (${location.origin})`);
  return url.href;
}

/** Opens the ONNX model at `path` on this site with the card at `card` (none: the card in the
 * file, or its scheduler_config.json beside it); `onProgress` gets the bytes downloaded. */
export function openHosted(engine: Engine, path: string, card: string | null, onProgress?: (done: number, total: number) => void): Promise<CatalogueEntry> {
  // Widgets on one page share a model: it is opened once per path and card.
  const key = `${path}\n${card ?? ''}`;
  let p = hosted.get(key);
  if (!p) {
    p = openHostedOnce(engine, path, card, onProgress);
    hosted.set(key, p);
    p.catch(() => hosted.delete(key));
  }
  return p;
}

const hosted = new Map<string, Promise<CatalogueEntry>>();

async function openHostedOnce(engine: Engine, path: string, card: string | null, onProgress?: (done: number, total: number) => void): Promise<CatalogueEntry> {
  const id = `url:${path}`;
  const url = sameOrigin(path, 'model');
  const text = async (p: string, what: string) => {
    const response = await fetch(sameOrigin(p, what));
    if (!response.ok) throw new Error(`cannot load ${what} ${p}: HTTP ${response.status}`);
    return boundedText(response, p);
  };
  let cardText: string | undefined;
  let scheduler: string | undefined;
  if (card) cardText = await text(card, 'card');
  else {
    // Without a card: the one in the file; else, for a diffusers/optimum export (a model.onnx
    // with inputs sample and timestep), its scheduler_config.json beside it; else NAME.card.json
    // beside it. One guess, not a probe of each: a missing file is an error in the console.
    const iface = await engine.inspectOnnx(url, onProgress);
    if (!iface.metadataCard) {
      const has = (name: string) => iface.inputs.some((t) => t.name === name);
      const file = new URL(url).pathname.split('/').pop()!;
      if (file === 'model.onnx' && has('sample') && has('timestep')) scheduler = await text(new URL('scheduler_config.json', url).href, 'scheduler config');
      else cardText = await text(new URL(`${file.replace(/\.onnx$/, '')}.card.json`, url).href, 'card');
    }
  }
  const info = await engine.openOnnx({ key: id, name: path, model: url, card: cardText, scheduler }, onProgress);
  const e = entry(id, info);
  registerModel(e);
  return e;
}

/** What a drop or a file picker gave: the model and the JSON files beside it. */
export interface Picked {
  onnx?: File;
  card?: string;
  scheduler?: string;
  /** A GITS schedule file (its name and text). */
  gits?: { name: string; text: string };
}

/** Sorts picked files by what they are: *.onnx, a GITS file, a scheduler config, a card. */
export async function sortFiles(files: Iterable<File>): Promise<Picked> {
  const picked: Picked = {};
  for (const f of files) {
    if (f.name.endsWith('.onnx')) {
      if (picked.onnx) throw new Error(`open one .onnx file at a time (${picked.onnx.name} and ${f.name})`);
      picked.onnx = f;
      continue;
    }
    if (!f.name.endsWith('.json')) throw new Error(`${f.name}: open an .onnx file, its card (.json) or its scheduler_config.json, or a GITS file`);
    const text = await boundedText(new Response(f), f.name);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      // An empty or broken GITS file is named as one, not taken for a card.
      if (/gits/i.test(f.name)) {
        picked.gits = { name: f.name, text };
        continue;
      }
      throw new Error(`${f.name} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    const keys = json && typeof json === 'object' ? Object.keys(json) : [];
    if (keys.includes('schedules') || /gits/i.test(f.name)) picked.gits = { name: f.name, text };
    else if (keys.includes('_class_name') || keys.includes('num_train_timesteps') || f.name.includes('scheduler')) picked.scheduler = text;
    else picked.card = text;
  }
  return picked;
}

let opened = 0;

/** Opens a picked ONNX file with its card (or scheduler config, or `askCard` for one when the
 * file carries none). */
export async function openPicked(engine: Engine, p: Picked & { onnx: File }, askCard: (iface: OnnxInterface) => Promise<string>): Promise<CatalogueEntry> {
  let card = p.card;
  if (card === undefined && p.scheduler === undefined) {
    const iface = await engine.inspectOnnx(p.onnx);
    if (!iface.metadataCard) card = await askCard(iface);
  }
  const id = `file:${p.onnx.name}${opened++ ? `~${opened}` : ''}`;
  const info = await engine.openOnnx({ key: id, name: p.onnx.name, model: p.onnx, card, scheduler: p.scheduler });
  const e = entry(id, info);
  registerModel(e);
  return e;
}
