//! Integrals of Lagrange basis polynomials by Gauss–Legendre quadrature: the coefficients of
//! exact variable-step Adams–Bashforth (in sigma) and DEIS-tAB (in VP time).

/// 4-point Gauss–Legendre nodes and weights on [-1, 1]: exact for degree <= 7, more than the
/// degree-3 bases (order 4) used here.
const GL4: [(f64, f64); 4] = [
    (-0.861_136_311_594_052_6, 0.347_854_845_137_453_9),
    (-0.339_981_043_584_856_3, 0.652_145_154_862_546_1),
    (0.339_981_043_584_856_3, 0.652_145_154_862_546_1),
    (0.861_136_311_594_052_6, 0.347_854_845_137_453_9),
];

/// l_j(t) for the basis built on `nodes`.
fn basis(nodes: &[f64], j: usize, t: f64) -> f64 {
    nodes.iter().enumerate().filter(|&(m, _)| m != j).map(|(_, &tm)| (t - tm) / (nodes[j] - tm)).product()
}

/// Sub-intervals of the composite rule: the DEIS Jacobian d sigma / d tau is not a polynomial,
/// and 16 pieces bring its quadrature error to round-off (a plan is compiled once).
const PIECES: usize = 16;

/// C_j = integral over [a, b] of l_j(t) * jac(t) dt, for each node j (composite Gauss–Legendre).
pub fn integrate_basis(nodes: &[f64], a: f64, b: f64, jac: impl Fn(f64) -> f64) -> Vec<f64> {
    let width = (b - a) / PIECES as f64;
    let points: Vec<(f64, f64)> = (0..PIECES)
        .flat_map(|p| {
            let mid = a + (p as f64 + 0.5) * width;
            GL4.iter().map(move |&(x, w)| (mid + 0.5 * width * x, 0.5 * width * w))
        })
        .map(|(t, w)| (t, w * jac(t)))
        .collect();
    (0..nodes.len()).map(|j| points.iter().map(|&(t, w)| w * basis(nodes, j, t)).sum()).collect()
}
