// The schedule lab: the editor over the schedule just sampled, its error beside the polynomial
// and GITS schedules' on the same noise, import of other tools' sigma lists, and the schedule
// for download in our format and each export format.
import type { Engine } from './engine.js';
import { ScheduleEditor } from './schedule-editor.js';
import { sampleWith, type SampleOptions } from './view.js';
import { solve, unreachable } from './compare.js';
import { memo } from './memo.js';
import { modelById } from './models.js';
import { MAX_SIGMAS, shippedGits, type Settings } from './settings.js';
import type { SampleResult } from './protocol.js';

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;
const FORMATS = ['json', 'kdiffusion', 'diffusers', 'comfyui'];

export interface LabPage {
  engine: Engine;
  /** The edited list becomes the form's custom schedule, and the page samples it. */
  use(sigmas: number[]): void;
  sampleOptions(s: Settings): SampleOptions;
  /** Whether a GITS schedule was computed in the page for this model. */
  hasComputedGits(model: string): boolean;
}

/** Mean L2 to the reference from the same noise: this schedule's, and polynomial's and GITS's
 * at the same solver and NFE (null: GITS has no schedule for it). */
export interface Readout {
  /** The schedule measured. */
  sigmas: number[];
  current: number;
  polynomial: number;
  gits: number | null;
}

export class Lab {
  readonly editor: ScheduleEditor;
  private readonly view = $<HTMLDetailsElement>('#lab');
  private readonly message = $<HTMLElement>('#lab-message');
  /** Baselines by noise, solver, NFE and schedule. */
  private readonly baselines = new Map<string, Promise<number | null>>();
  private latest = 0;
  private last?: [Settings, SampleResult];

  constructor(private readonly page: LabPage) {
    this.editor = new ScheduleEditor($<HTMLCanvasElement>('#lab-chart'), {
      edit: (sigmas) => page.use(sigmas),
      refuse: (why) => this.say(why, 'refused'),
      select: (words) => { $<HTMLElement>('#lab-point').textContent = words; },
    }, MAX_SIGMAS);
    const edit = (f: () => boolean) => () => {
      if (f()) page.use([...this.editor.sigmas]);
    };
    $<HTMLButtonElement>('#lab-add').addEventListener('click', edit(() => this.editor.add()));
    $<HTMLButtonElement>('#lab-remove').addEventListener('click', edit(() => this.editor.remove()));
    $<HTMLButtonElement>('#lab-import').addEventListener('click', () => void this.importText());
    // Opened after a sample: measure what is shown.
    this.view.addEventListener('toggle', () => {
      if (this.view.open && this.last) void this.measure(...this.last);
    });
  }

  open(): void {
    this.view.open = true;
  }

  /** The lab's message line; its data-kind says what it is (tests read it). */
  private say(text: string, kind: 'refused' | 'imported'): void {
    this.message.textContent = text;
    this.message.dataset.kind = text ? kind : '';
  }

  /** After a sample: the editor takes its schedule (unless it is the one being edited), the
   * downloads follow it, and an open lab measures it. */
  async shown(s: Settings, r: SampleResult): Promise<void> {
    this.last = [s, r];
    if (s.schedule !== 'custom' || this.editor.sigmas.length === 0) this.editor.show(r.plan.sigmas, r.sigmaRange);
    await this.offerDownloads(r.plan.sigmas);
    if (this.view.open) await this.measure(s, r);
  }

  private async offerDownloads(sigmas: number[]): Promise<void> {
    for (const format of FORMATS) {
      const link = $<HTMLAnchorElement>(`#lab-${format}`);
      const text = await this.page.engine.exportSigmas(sigmas, format);
      if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(new Blob([text], { type: format === 'comfyui' ? 'text/plain' : 'application/json' }));
    }
  }

  /** Measures the shown sample and its baselines; a newer sample's result replaces it. */
  private async measure(s: Settings, r: SampleResult): Promise<void> {
    const token = ++this.latest;
    const model = modelById(s.model);
    const exact = model.kind === 'gmm' || model.kind === 'kde';
    const against = exact ? 'a 200-NFE solve of the exact ODE' : 'the 60-NFE teacher (iPNDM)';
    document.body.dataset.lab = 'measuring';
    $<HTMLElement>('#lab-caption').textContent = `Measuring against ${against}…`;
    try {
      const reference = await solve(this.page.engine, s, 'reference');
      const l2 = (samples: Float32Array) => this.page.engine.meanL2(samples, reference, r.dim);
      const current = await l2(r.samples);
      const gitsSchedule = shippedGits(model, 'gits') ? 'gits' : this.page.hasComputedGits(model.id) ? 'gits-here' : undefined;
      const polynomial = s.schedule === 'polynomial:7' ? current : await this.baseline(s, r.nfe, 'polynomial:7', l2);
      const gits = gitsSchedule ? (s.schedule === gitsSchedule ? current : await this.baseline(s, r.nfe, gitsSchedule, l2)) : null;
      if (token !== this.latest) return;
      const readout: Readout = { sigmas: r.plan.sigmas, current, polynomial: polynomial!, gits };
      window.labLast = readout;
      this.render(s, r, readout, gitsSchedule, against);
      document.body.dataset.lab = 'ready';
    } catch (e) {
      if (token !== this.latest) return;
      $<HTMLElement>('#lab-caption').textContent = `Measuring failed: ${e instanceof Error ? e.message : String(e)}`;
      document.body.dataset.lab = 'error';
    }
  }

  /** L2 of `schedule` at `nfe` with `s`'s solver, on `s`'s noise (null where it has no plan). */
  private baseline(s: Settings, nfe: number, schedule: string, l2: (samples: Float32Array) => Promise<number>): Promise<number | null> {
    const key = JSON.stringify([s.model, s.seed, s.batch, s.label, s.guidance, s.solver, nfe, schedule]);
    const config = { ...s, schedule, nfe };
    return memo(this.baselines, key, () =>
      sampleWith(this.page.engine, config, this.page.sampleOptions(config)).then(
        (shown) => l2(shown.r.samples),
        (e: unknown) => {
          if (unreachable(e)) return null;
          throw e;
        },
      ),
    );
  }

  private render(s: Settings, r: SampleResult, m: Readout, gitsSchedule: string | undefined, against: string): void {
    const table = $<HTMLTableElement>('#lab-readout');
    const ratio = (v: number | null) => (v === null ? '' : ` (${(v / m.current).toPrecision(3)} x this one's)`);
    const rows: [string, number | null, string][] = [
      [`this schedule (${s.schedule})`, m.current, ''],
      ['polynomial (rho 7)', m.polynomial, ratio(m.polynomial)],
      [gitsSchedule === 'gits-here' ? 'GITS (computed here)' : 'GITS (shipped)', m.gits, m.gits === null ? (gitsSchedule ? `no ${r.nfe}-NFE schedule in the file` : 'none for this model') : ratio(m.gits)],
    ];
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const h of ['schedule', 'L2 to the reference', '']) head.append(Object.assign(document.createElement('th'), { textContent: h }));
    const body = table.createTBody();
    rows.forEach(([name, value, note], k) => {
      const row = body.insertRow();
      row.dataset.row = ['current', 'polynomial', 'gits'][k];
      row.insertCell().textContent = name;
      row.insertCell().textContent = value === null ? '—' : value.toPrecision(4);
      row.insertCell().textContent = note;
    });
    $<HTMLElement>('#lab-caption').textContent = `Mean L2 distance to ${against} from the same noise: ${r.batch} samples of seed ${s.seed}, ${s.solver} at NFE ${r.nfe} for all three.`;
  }

  /** Reads the pasted text with the sampler's importer, then edits and samples the result. */
  private async importText(): Promise<void> {
    const text = $<HTMLTextAreaElement>('#lab-import-text').value;
    const zero = $<HTMLInputElement>('#lab-zero').checked;
    const s = this.last?.[0];
    if (!s) return this.say('Import: wait for the first sample', 'refused');
    try {
      const got = await this.page.engine.importSigmas(modelById(s.model).url, text, zero);
      const n = got.sigmas.length;
      this.editor.show(got.sigmas, this.last![1].sigmaRange);
      this.say(`Read ${got.notation}: ${n} sigmas, ${got.sigmas[0]} .. ${got.sigmas[n - 1]}; ${got.last}.`, 'imported');
      this.page.use(got.sigmas);
    } catch (e) {
      this.say(`Import failed: ${e instanceof Error ? e.message : String(e)}`, 'refused');
    }
  }
}

declare global {
  interface Window {
    /** The schedule lab's last readout, for tests and the console. */
    labLast?: Readout;
  }
}
