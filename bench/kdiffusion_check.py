"""Our stochastic samplers against k-diffusion's own (pip package k-diffusion 0.1.1.post1), fed
the same noise (and LMS, an ODE solver, from the same x_T): the CLI samples a Gaussian mixture (exact denoiser, f64) and writes its step
noise; k-diffusion runs the same sampler on the same mixture from the same x_T, its noise
sampler (or, for EDM's churn, torch.randn_like) handing back our draws in order, and checking
that it asks for them over the same sigma intervals. Every stochastic sampler must agree to 1e-10.

Not part of CI (it needs torch). Run from the repository root, after `cargo build --release`:
    python bench/kdiffusion_check.py [--cli target/release/gits-sampler]
(needs torch, torchsde, scipy, pillow, safetensors, torchvision and k-diffusion==0.1.1.post1;
k-diffusion's package __init__ also wants scikit-image, which its sampling module does not, so
the module is loaded on its own).
"""
import argparse
import importlib
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import types

import torch

torch.set_default_dtype(torch.float64)


def kdiffusion_sampling():
    spec = importlib.util.find_spec("k_diffusion")
    if spec is None:
        sys.exit("k-diffusion is not installed: pip install k-diffusion==0.1.1.post1 --no-deps, plus torchsde")
    package = types.ModuleType("k_diffusion")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["k_diffusion"] = package
    return importlib.import_module("k_diffusion.sampling")


def mixture_denoiser(gmm):
    """D(x; sigma) of sum_k w_k N(mu_k, s_k^2 I): sum_k r_k [mu_k + s_k^2 / (s_k^2 + sigma^2) (x - mu_k)]."""
    w = torch.tensor(gmm["weights"]) / sum(gmm["weights"])
    mu = torch.tensor(gmm["means"])
    var = torch.tensor(gmm["variances"])
    d = mu.shape[1]

    def model(x, sigma):
        s2 = sigma[0] ** 2
        v = var + s2  # [K]
        dist2 = ((x[:, None, :] - mu[None, :, :]) ** 2).sum(-1)  # [B, K]
        logits = torch.log(w) - 0.5 * d * torch.log(v) - 0.5 * dist2 / v
        r = torch.softmax(logits, dim=1)
        per = mu[None] + (var / v)[None, :, None] * (x[:, None, :] - mu[None])
        return (r[:, :, None] * per).sum(1)

    return model


class Feeder:
    """Hands back our recorded draws in order, checking the interval k-diffusion asks about."""

    def __init__(self, records):
        self.records = list(records)
        self.used = 0

    def take(self, sigma=None, sigma_next=None):
        if self.used >= len(self.records):
            raise RuntimeError(f"k-diffusion asked for draw {self.used + 1}, we drew {len(self.records)}")
        rec = self.records[self.used]
        self.used += 1
        if sigma is not None:
            for ours, theirs in ((rec["sigma"], float(sigma)), (rec["sigma_next"], float(sigma_next))):
                if abs(ours - theirs) > 1e-12 * max(abs(ours), 1e-300):
                    raise RuntimeError(f"draw {self.used}: k-diffusion asks for ({float(sigma)}, {float(sigma_next)}), ours was ({rec['sigma']}, {rec['sigma_next']})")
        return torch.tensor(rec["noise"])


def ours(cli, model_path, solver, schedule, nfe, batch, seed, noise):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        args = [cli, "sample", "--denoiser", f"gmm:{model_path}", "--solver", solver, "--schedule", schedule, "--nfe", str(nfe), "--batch", str(batch), "--seed", str(seed), "--step-noise", noise, "--out", out]
        subprocess.run(args, check=True, capture_output=True)
        with open(out) as f:
            return json.load(f)


def theirs(kd, denoiser, name, params, run):
    sigmas = torch.tensor(run["sigmas"])
    x = torch.tensor(run["steps"][0]["x"])
    feed = Feeder(run["step_noise"])
    sampler = lambda s, sn: feed.take(s, sn)
    if name in ("euler_churn", "heun_churn"):
        churn, tmin, tmax, s_noise = params
        steps = len(sigmas) - 1
        calls = iter(range(steps))

        def randn_like(t):
            # k-diffusion draws at every step; ours only where the noise is added (gamma > 0).
            i = next(calls)
            s = float(sigmas[i])
            gamma = min(churn / steps, 2**0.5 - 1) if tmin <= s <= tmax else 0.0
            return feed.take() if gamma > 0 else torch.zeros_like(t)

        saved, torch.randn_like = torch.randn_like, randn_like
        try:
            fn = kd.sample_euler if name == "euler_churn" else kd.sample_heun
            out = fn(denoiser, x, sigmas, disable=True, s_churn=churn, s_tmin=tmin, s_tmax=tmax, s_noise=s_noise)
        finally:
            torch.randn_like = saved
    else:
        eta, s_noise = params
        kw = dict(disable=True, eta=eta, s_noise=s_noise, noise_sampler=sampler)
        fn = {
            "euler_ancestral": kd.sample_euler_ancestral,
            "dpm_2_ancestral": kd.sample_dpm_2_ancestral,
            "dpmpp_2s_ancestral": kd.sample_dpmpp_2s_ancestral,
            "dpmpp_sde": kd.sample_dpmpp_sde,
            "dpmpp_2m_sde": kd.sample_dpmpp_2m_sde,
            "dpmpp_2m_sde_heun": kd.sample_dpmpp_2m_sde,
            "dpmpp_3m_sde": kd.sample_dpmpp_3m_sde,
        }[name]
        if name == "dpmpp_2m_sde_heun":
            kw["solver_type"] = "heun"
        out = fn(denoiser, x, sigmas, **kw)
    if feed.used != len(feed.records):
        raise RuntimeError(f"k-diffusion used {feed.used} of our {len(feed.records)} draws")
    return out, feed.used


CASES = [
    ("euler_ancestral", [1.0, 1.0]),
    ("euler_ancestral", [0.6, 0.9]),
    ("dpm_2_ancestral", [1.0, 1.0]),
    ("dpmpp_2s_ancestral", [1.0, 1.0]),
    ("dpmpp_2s_ancestral", [0.5, 1.2]),
    ("dpmpp_sde", [1.0, 1.0]),
    ("dpmpp_sde", [0.7, 1.0]),
    ("dpmpp_2m_sde", [1.0, 1.0]),
    ("dpmpp_2m_sde", [0.4, 1.1]),
    ("dpmpp_2m_sde_heun", [1.0, 1.0]),
    ("dpmpp_3m_sde", [1.0, 1.0]),
    ("dpmpp_3m_sde", [0.5, 0.8]),
    ("euler_churn", [40.0, 0.05, 50.0, 1.003]),
    ("heun_churn", [40.0, 0.05, 50.0, 1.003]),
    ("heun_churn", [10.0, 0.0, 1e5, 1.0]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="target/release/gits-sampler")
    ap.add_argument("--tolerance", type=float, default=1e-10)
    a = ap.parse_args()
    kd = kdiffusion_sampling()
    with tempfile.TemporaryDirectory() as tmp:
        # The shipped 2-D mixture, and a 5-D one with unequal variances.
        wide = os.path.join(tmp, "wide.gmm.json")
        g = torch.Generator().manual_seed(0)
        with open(wide, "w") as f:
            json.dump({"kind": "gmm", "weights": [0.5, 0.3, 0.2], "means": (torch.randn(3, 5, generator=g) * 1.5).tolist(), "variances": [0.05, 0.3, 1.0]}, f)
        models = [("models/eight-gaussians.gmm.json", "polynomial:7"), (wide, "logsnr")]
        rows, worst = [], 0.0
        for path, schedule in models:
            with open(path) as f:
                denoiser = mixture_denoiser(json.load(f))
            for name, params in CASES:
                for noise in ("fresh", "brownian"):
                    nfe = 12 if name in ("dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_sde", "heun_churn") else 10
                    solver = f"{name}:{':'.join(str(p) for p in params)}"
                    run = ours(a.cli, path, solver, schedule, nfe, 16, 3, noise)
                    out, draws = theirs(kd, denoiser, name, params, run)
                    diff = (out - torch.tensor(run["samples"])).abs().max().item()
                    worst = max(worst, diff)  # the stochastic samplers: held to the tolerance
                    rows.append((os.path.basename(path) if path.startswith("models") else "5-D mixture", solver, noise, nfe, draws, diff))
            # LMS (ODE): k-diffusion integrates its coefficients with scipy's quad (epsrel 1e-4), but
            # the integrands are Lagrange polynomials, which quad's Gauss-Kronrod rule integrates
            # exactly: ours (exact Adams-Bashforth in sigma) agree to rounding.
            run = ours(a.cli, path, "lms:4", schedule, 10, 16, 3, "fresh")
            out = kd.sample_lms(denoiser, torch.tensor(run["steps"][0]["x"]), torch.tensor(run["sigmas"]), disable=True, order=4)
            lms = (out - torch.tensor(run["samples"])).abs().max().item()
            worst = max(worst, lms)
            rows.append((os.path.basename(path) if path.startswith("models") else "5-D mixture", "lms:4 (ODE)", "-", 10, 0, lms))
        print("| model | solver | step noise | NFE | draws | max abs difference |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]:.2e} |")
        print(f"\nworst: {worst:.2e} (tolerance {a.tolerance:g}); torch {torch.__version__}")
        if not worst <= a.tolerance:
            sys.exit(f"FAIL: a sampler differs from k-diffusion's by {worst:.2e}")


main()
