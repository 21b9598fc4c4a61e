// The playground's "Your own model" panel: the file picker and drop target, the card form for a
// file without a card, what the opened model is, and its GITS files.
import type { Engine } from './engine.js';
import type { CatalogueEntry } from './models.js';
import { openPicked, sortFiles, type Picked } from './own-model.js';
import type { OnnxInfo, OnnxInterface } from './protocol.js';

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;

export interface OwnModelPage {
  engine: Engine;
  /** The model opened: select it and sample. */
  opened(model: CatalogueEntry): Promise<void>;
  /** A GITS file's text for the selected model (checked against it by the sampler). */
  gits(name: string, text: string): Promise<void>;
  /** Something went wrong: say so (the page keeps working with what it had). */
  failed(message: string): void;
}

/** What the model is, in the panel: name, sha256, inputs, parameterization, card. */
export function showInfo(info: OnnxInfo | undefined): void {
  const dl = $<HTMLDListElement>('#model-info');
  const pre = $<HTMLPreElement>('#model-binding');
  dl.hidden = pre.hidden = !info;
  if (!info) return;
  const shape = (s: (number | string)[] | null) => (s ? `[${s.join(', ')}]` : '[unknown rank]');
  const rows: [string, string][] = [
    ['name', info.name],
    ['sha256', info.sha256],
    ['size', `${(info.bytes / 1e6).toFixed(2)} MB`],
    ['inputs', info.inputs.map((t) => `${t.name} ${t.type} ${shape(t.shape)}`).join('; ')],
    ['outputs', info.outputs.map((t) => `${t.name} ${t.type} ${shape(t.shape)}`).join('; ')],
    ['card', info.cardSource],
    ['runs on', `onnxruntime-web, ${info.runtime === 'webgpu' ? 'WebGPU' : 'wasm (CPU)'}`],
  ];
  dl.replaceChildren(...rows.flatMap(([k, v]) => [Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v })]));
  dl.dataset.sha256 = info.sha256;
  pre.textContent = info.description.join('\n');
}

/** Asks for a card in the form, prefilled from the graph's interface; resolves to its JSON. */
function askCard(iface: OnnxInterface): Promise<string> {
  const form = $<HTMLFieldSetElement>('#card-form');
  const get = <T extends HTMLInputElement | HTMLSelectElement>(id: string) => $<T>(`#card-${id}`);
  const names = (sel: HTMLSelectElement, list: { name: string }[], guess: RegExp, keep: HTMLOptionElement[] = []) => {
    sel.replaceChildren(...keep, ...list.map((t) => new Option(t.name, t.name)));
    const hit = list.find((t) => guess.test(t.name));
    if (hit) sel.value = hit.name;
  };
  names(get('sample'), iface.inputs, /sample|^x$|latent|image/i);
  names(get('noise'), iface.inputs, /sigma|time|^t$|noise/i);
  names(get('class'), iface.inputs, /class|label|^y$/i, [new Option('none', '')]);
  if (!iface.inputs.some((t) => /class|label|^y$/i.test(t.name))) get('class').value = '';
  names(get('output'), iface.outputs, /.*/);
  const noise = iface.inputs.find((t) => t.name === get('noise').value);
  if (noise && /int/.test(noise.type)) get('noise-as').value = 'timestep';
  const card = (): Record<string, unknown> => {
    const v = (id: string) => get(id).value;
    const kind = v('schedule');
    const schedule =
      kind === 'edm' ? { kind, sigma_min: Number(v('sigma-min')), sigma_max: Number(v('sigma-max')) }
      : kind === 'vp' ? { kind, beta_schedule: v('betas'), num_train_timesteps: Number(v('timesteps')) }
      : { kind, num_train_timesteps: Number(v('timesteps')) };
    const out: Record<string, unknown> = {
      sample: { input: v('sample') },
      noise: { input: v('noise'), as: v('noise-as') },
      output: { name: v('output'), parameterization: v('parameterization') },
      schedule,
    };
    if (v('class')) out.class = { input: v('class'), classes: Number(v('classes')), encoding: 'index' };
    return out;
  };
  const refresh = () => {
    for (const el of form.querySelectorAll<HTMLElement>('[data-schedule]')) el.hidden = !el.dataset.schedule!.split(' ').includes(get('schedule').value);
    const text = JSON.stringify(card(), null, 2);
    $<HTMLPreElement>('#card-json').textContent = text;
    const link = $<HTMLAnchorElement>('#card-download');
    if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([text + '\n'], { type: 'application/json' }));
  };
  refresh();
  form.hidden = false;
  form.oninput = form.onchange = refresh;
  return new Promise((resolve, reject) => {
    const done = () => {
      form.hidden = true;
      form.oninput = form.onchange = null;
    };
    $<HTMLButtonElement>('#card-use').onclick = () => {
      done();
      resolve(JSON.stringify(card()));
    };
    $<HTMLButtonElement>('#card-cancel').onclick = () => {
      done();
      reject(new Error('no card given: the model was not opened'));
    };
  });
}

export function wireOwnModel(page: OwnModelPage): void {
  const status = $<HTMLElement>('#open-status');
  const say = (text: string) => (status.textContent = text);
  const open = async (files: Iterable<File>) => {
    let picked: Picked;
    try {
      picked = await sortFiles(files);
      if (picked.gits && !picked.onnx) {
        await page.gits(picked.gits.name, picked.gits.text);
        return;
      }
      if (!picked.onnx) throw new Error('no .onnx file among the files: open the model with its card or scheduler_config.json');
      document.body.dataset.open = 'opening';
      say(`Opening ${picked.onnx.name} (loading onnxruntime-web)…`);
      const model = await openPicked(page.engine, { ...picked, onnx: picked.onnx }, askCard);
      document.body.dataset.open = 'opened';
      say(`Opened ${picked.onnx.name}.`);
      await page.opened(model);
      if (picked.gits) await page.gits(picked.gits.name, picked.gits.text);
    } catch (e) {
      document.body.dataset.open = 'error';
      const message = e instanceof Error ? e.message : String(e);
      say(`Not opened: ${message}`);
      page.failed(message);
    }
  };
  const input = $<HTMLInputElement>('#open-model');
  input.addEventListener('change', () => {
    void open([...(input.files ?? [])]).finally(() => (input.value = ''));
  });
  const gitsInput = $<HTMLInputElement>('#open-gits');
  gitsInput.addEventListener('change', () => {
    const file = gitsInput.files?.[0];
    gitsInput.value = '';
    if (!file) return;
    void new Response(file).text().then((text) => page.gits(file.name, text)).catch((e: unknown) => page.failed(e instanceof Error ? e.message : String(e)));
  });
  document.addEventListener('dragover', (ev) => {
    if (ev.dataTransfer?.types.includes('Files')) ev.preventDefault();
  });
  document.addEventListener('drop', (ev) => {
    if (!ev.dataTransfer?.files.length) return;
    ev.preventDefault();
    void open([...ev.dataTransfer.files]);
  });
}
