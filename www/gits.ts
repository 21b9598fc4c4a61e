// Runs a GITS search in the page, chunk by chunk, with progress and cancel.
import { GitsSearch } from './pkg/gits_sampler.js';

export interface GitsRun {
  /** Resolves to the schedule file JSON, or null when cancelled. */
  done: Promise<string | null>;
  cancel(): void;
}

/** The defaults of the paper (and of `gits-sampler gits`): iPNDM teacher, 61-point polynomial grid;
 * `afs`: also the AFS-refined schedules for iPNDM (`gits --afs`). */
export function startGits(modelJson: string, modelId: string, afs: boolean, onProgress: (done: number, total: number) => void): GitsRun {
  let cancelled = false;
  const search = new GitsSearch(modelJson, modelId, 'ipndm', 'polynomial:61', 256, 0n, 'l2', new Float64Array([1.15]), 1, 20, afs ? 'ipndm' : undefined);
  const done = (async () => {
    try {
      while (!search.step()) {
        onProgress(search.done, search.total);
        await new Promise((r) => setTimeout(r)); // let the page paint and take a cancel click
        if (cancelled) return null;
      }
      onProgress(search.total, search.total);
      return search.finish();
    } finally {
      search.free();
    }
  })();
  return { done, cancel: () => { cancelled = true; } };
}
