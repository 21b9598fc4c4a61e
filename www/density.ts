// Log-density of an isotropic Gaussian mixture on a grid, for the 2-D background.
export interface Gmm {
  kind: 'gmm';
  weights: number[];
  means: number[][];
  variances: number[];
}

/** Density values on an n x n grid over [lo, hi]^2, row 0 at the top (largest y). */
export function densityGrid(gmm: Gmm, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n * n);
  const total = gmm.weights.reduce((a, b) => a + b, 0);
  for (let row = 0; row < n; row++) {
    const y = hi - ((row + 0.5) / n) * (hi - lo);
    for (let col = 0; col < n; col++) {
      const x = lo + ((col + 0.5) / n) * (hi - lo);
      let p = 0;
      gmm.means.forEach(([mx, my], k) => {
        const v = gmm.variances[k];
        const d2 = (x - mx) ** 2 + (y - my) ** 2;
        p += (gmm.weights[k] / total) * Math.exp(-d2 / (2 * v)) / (2 * Math.PI * v);
      });
      out[row * n + col] = p;
    }
  }
  return out;
}
