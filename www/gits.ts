// The GITS panels: a search (run by the sampling worker) with a progress bar, cancel and download.
import type { Job } from './engine.js';
import type { GitsOptions } from './protocol.js';
import { decimal, int } from './settings.js';

/** The paper's defaults (and `gits-sampler gits`'s): iPNDM teacher, 61-point polynomial grid,
 * 256 warmup trajectories, l2 Euler-jump costs, gamma 1.15. */
export const PAPER: GitsOptions = { teacher: 'ipndm', grid: 'polynomial:61', warmup: 256, seed: 0, metric: 'l2', gammas: [1.15], minSteps: 1, maxSteps: 20 };

/** The search the page's GITS panel asks for: the paper's settings with the panel's grid,
 * gamma, warmup, AFS, cost and refinement or optimal steps (`solver`: the solver they run, which
 * then samples with AFS on the file when it was searched for it; the
 * optimal-step search replaces the refinement); `image`
 * models search in small chunks so progress and cancel stay quick on the U-Net. */
export function readGitsOptions(field: (name: string) => HTMLInputElement | HTMLSelectElement, image: boolean, solver: string): GitsOptions {
  const num = (name: string, min: number, max: number) => int(name, field(name).value, min, max);
  const points = num('gits-grid', 3, 201);
  const gamma = decimal('gamma', field('gits-gamma').value, 1, 3);
  const optimal = (field('gits-optimal') as HTMLInputElement).checked;
  return {
    ...PAPER,
    gammas: [gamma],
    grid: `polynomial:${points}`,
    warmup: num('gits-warmup', 1, 4096),
    maxSteps: Math.min(20, points - 1),
    afsStudent: (field('afs') as HTMLInputElement).checked ? solver : undefined,
    propagate: field('gits-cost').value === 'propagated',
    refine: (field('gits-refine') as HTMLInputElement).checked && !optimal ? [solver] : undefined,
    optimalSteps: optimal ? [solver] : undefined,
    chunk: image ? 2 : undefined,
  };
}

/** Wires a GITS panel whose controls are `#${id}-run`, `-cancel`, `-progress`, `-status` and
 * `-download`; `body[data-${id}]` tracks its state (running, cancelled, done, error). */
export function wireGitsPanel(id: string, start: (onProgress: (done: number, total: number) => void) => Job<string>, onDone: (file: string) => Promise<void>): void {
  const $ = <T extends Element>(part: string) => document.querySelector(`#${id}-${part}`) as T;
  const runButton = $<HTMLButtonElement>('run');
  const cancelButton = $<HTMLButtonElement>('cancel');
  const progress = $<HTMLProgressElement>('progress');
  const note = $<HTMLElement>('status');
  const download = $<HTMLAnchorElement>('download');
  const state = (s: string) => { document.body.setAttribute(`data-${id}`, s); };
  let current: Job<string> | undefined;
  runButton.addEventListener('click', async () => {
    runButton.disabled = true;
    cancelButton.disabled = false;
    state('running');
    note.textContent = 'Starting…';
    progress.value = 0;
    try {
      current = start((done, total) => {
        progress.value = done / total;
        note.textContent = `${done} / ${total} (warmup trajectories, then gain points, optimal-step searches, refined schedules)`;
      });
      const file = await current.done;
      if (file === null) {
        note.textContent = 'Cancelled.';
        progress.value = 0;
        state('cancelled');
        return;
      }
      const t = (JSON.parse(file) as { timing: { warmup_s: number; propagation_s?: number; optimal_steps_s?: number; cost_matrix_s: number; dp_s: number } }).timing;
      const gains = (t.propagation_s ? `, propagation gains ${t.propagation_s.toFixed(2)} s` : '') + (t.optimal_steps_s ? `, optimal steps ${t.optimal_steps_s.toFixed(2)} s` : '');
      note.textContent = `Done: warmup ${t.warmup_s.toFixed(2)} s${gains}, cost matrix ${t.cost_matrix_s.toFixed(2)} s, DP ${(t.dp_s * 1000).toFixed(1)} ms.`;
      if (download.href) URL.revokeObjectURL(download.href);
      download.href = URL.createObjectURL(new Blob([file], { type: 'application/json' }));
      download.hidden = false;
      state('done');
      await onDone(file);
    } catch (e) {
      note.textContent = `GITS failed: ${e instanceof Error ? e.message : String(e)}`;
      state('error');
    } finally {
      runButton.disabled = false;
      cancelButton.disabled = true;
    }
  });
  cancelButton.addEventListener('click', () => current?.cancel());
}

/** Enables a schedule picker's computed-GITS option and selects it. */
export function offerComputed(select: HTMLSelectElement, value: string): void {
  const option = select.querySelector<HTMLOptionElement>(`option[value="${value}"]`)!;
  option.disabled = false;
  select.value = value;
}
