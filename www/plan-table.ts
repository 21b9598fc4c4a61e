// "Solvers as data": the plan that ran, one row per operation, with its coefficients (the rows
// come from Rust's `Plan::rows`; this module only formats them).
import type { PlanSummary } from './protocol.js';

const num = (v: number) => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(3));

/** Fills `table` with the plan's operations (register r0 is the starting noise z). */
export function renderPlan(table: HTMLTableElement, plan: PlanSummary): void {
  table.replaceChildren();
  table.createCaption().textContent = `${plan.solver}: ${plan.nfe} evaluations over ${plan.sigmas.length - 1} steps${plan.afs ? ' (analytic first step)' : ''}, sigmas ${plan.sigmas.map(num).join(', ')}`;
  const head = table.createTHead().insertRow();
  for (const h of ['#', 'operation', 'sigma', 'coefficients']) head.appendChild(document.createElement('th')).textContent = h;
  const body = table.createTBody();
  plan.rows.forEach((op, i) => {
    const row = body.insertRow();
    const coefficients = op.coefficients.map(([r, c]) => `r${r}: ${num(c)}`).join('  ');
    for (const c of [String(i), op.operation, op.sigma === null ? '' : num(op.sigma), coefficients]) row.insertCell().textContent = c;
    row.className = op.kind;
  });
}
