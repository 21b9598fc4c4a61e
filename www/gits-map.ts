// The GITS map: the cost matrix of the GITS file just sampled on as a heat map with the DP's
// paths, a gamma slider that re-runs the DP on the kept matrix, and (for a propagated search)
// the first jump's cost against the error it really leaves in the final sample.
import type { Engine } from './engine.js';
import { drawCostMap } from './cost-map.js';
import { drawLines } from './chart.js';
import type { Shown } from './view.js';
import type { CostMap } from './protocol.js';

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;

declare global {
  interface Window {
    /** The GITS map last drawn, for tests and the console. */
    gitsMapLast?: CostMap;
  }
}

export class GitsMap {
  private readonly view = $<HTMLElement>('#gits-map-view');
  private readonly slider = $<HTMLInputElement>('#gits-map-gamma');
  private readonly caption = $<HTMLElement>('#gits-map-caption');
  private current?: { model: string; text: string; name: string; steps: number };
  private latest = 0;

  constructor(private readonly engine: Engine) {
    this.slider.addEventListener('input', () => void this.draw(Number(this.slider.value)));
  }

  private state(s: string): void {
    document.body.dataset.gitsMap = s;
  }

  /** After a sample: the map of the GITS file it ran on at the file's first gamma (hidden for
   * other schedules). */
  async shown({ r, model, gits }: Shown): Promise<void> {
    this.view.hidden = !gits;
    if (!gits) {
      this.current = undefined;
      return this.state('none');
    }
    const { text, name } = gits;
    this.current = { model: model.url, text, name, steps: r.plan.sigmas.length - 1 };
    const first = (JSON.parse(text) as { schedules?: { gamma: number }[] }).schedules?.[0]?.gamma ?? 1.15;
    this.slider.value = String(first);
    await this.draw(first);
  }

  private async draw(gamma: number): Promise<void> {
    const c = this.current;
    if (!c) return;
    const token = ++this.latest;
    $<HTMLOutputElement>('#gits-map-gamma-value').value = gamma.toFixed(2);
    try {
      const map = await this.engine.gitsMap(c.model, c.text, c.name, gamma);
      if (token !== this.latest) return;
      window.gitsMapLast = map;
      drawCostMap($<HTMLCanvasElement>('#gits-map'), map, c.steps);
      const jump = $<HTMLCanvasElement>('#gits-first-jump');
      const p = map.propagation;
      jump.hidden = !p;
      if (p) {
        drawLines(jump, [
          { label: "search's cost (lands)", color: '#60a5fa', xs: p.measured, ys: p.landing },
          { label: 'left at the end', color: '#fb923c', xs: p.measured, ys: p.left },
        ], 'grid point the first jump lands on', 'first jump from sigma_max: mean L2 (log)');
      }
      const more = p ? '' : ' A search with the propagated cost also measures what each first jump leaves in the final sample.';
      this.caption.textContent = `${c.name}: ${map.grid.length} grid points; the DP's path for each of 1..${map.paths.length} steps at gamma ${gamma.toFixed(2)}, the ${c.steps}-step one sampled with in orange.${more}`;
      this.state('ready');
    } catch (e) {
      if (token !== this.latest) return;
      this.caption.textContent = `No map: ${e instanceof Error ? e.message : String(e)}`;
      this.state('error');
    }
  }
}
