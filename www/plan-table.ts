// "Solvers as data": the plan that ran, one row per operation, with its coefficients.

type Op =
  | { op: 'eval'; input: number; sigma: number; out: number; thresholding?: boolean }
  | { op: 'combine'; out: number; terms: [number, number][] }
  | { op: 'noise'; out: number }
  | { op: 'emit'; reg: number; step: number };

interface Plan {
  solver: string;
  sigmas: number[];
  nfe: number;
  ops: Op[];
}

const num = (v: number) => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(3));

/** Fills `table` with the plan's operations (register r0 is the starting noise z). */
export function renderPlan(table: HTMLTableElement, planJson: string): void {
  const plan = JSON.parse(planJson) as Plan;
  table.replaceChildren();
  table.createCaption().textContent = `${plan.solver}: ${plan.nfe} evaluations over ${plan.sigmas.length - 1} steps, sigmas ${plan.sigmas.map(num).join(', ')}`;
  const head = table.createTHead().insertRow();
  for (const h of ['#', 'operation', 'sigma', 'coefficients']) head.appendChild(document.createElement('th')).textContent = h;
  const body = table.createTBody();
  plan.ops.forEach((op, i) => {
    const row = body.insertRow();
    const cells = [String(i)];
    switch (op.op) {
      case 'eval':
        cells.push(`r${op.out} = D(r${op.input})${op.thresholding ? ', thresholded' : ''}`, num(op.sigma), '');
        break;
      case 'combine':
        cells.push(`r${op.out} = ${op.terms.map(([, r]) => `c·r${r}`).join(' + ')}`, '', op.terms.map(([c, r]) => `r${r}: ${num(c)}`).join('  '));
        break;
      case 'noise':
        cells.push(`r${op.out} = fresh N(0, I) noise`, '', '');
        break;
      case 'emit':
        cells.push(`x at step ${op.step} = r${op.reg}`, num(plan.sigmas[op.step]), '');
        break;
    }
    for (const c of cells) row.insertCell().textContent = c;
    row.className = op.op;
  });
}
