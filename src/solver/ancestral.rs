//! The ancestral split of a step s -> s' (k-diffusion's `get_ancestral_step`): go down
//! deterministically to s_down, then add fresh noise of level s_up, with s_down^2 + s_up^2 = s'^2
//! and s_up = min(s', eta s' sqrt(s^2 - s'^2) / s). eta = 0: s_down = s', no noise.

pub fn split(s: f64, s_next: f64, eta: f64) -> (f64, f64) {
    if eta == 0.0 {
        return (s_next, 0.0);
    }
    let up = s_next.min(eta * (s_next * s_next * (s * s - s_next * s_next) / (s * s)).sqrt());
    ((s_next * s_next - up * up).sqrt(), up)
}
