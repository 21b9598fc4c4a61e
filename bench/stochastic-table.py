"""Renders bench/mnist-eval/stochastic-{polynomial,gits}.json (bench/mnist-stochastic.sh) as the
MNIST stochastic-samplers section of bench/RESULTS.md (prints it; section.py writes it)."""
import json

NAMES = {"polynomial": "polynomial", "gits": "GITS (shipped)", "gits-paper": "GITS (paper's cost, 3..20 steps)"}
runs = [json.load(open(f"bench/mnist-eval/stochastic-{name}.json")) for name in NAMES]
first = runs[0]
print("## MNIST: stochastic samplers beside iPNDM (shipped int8 U-Net)\n")
print("Regenerate: `bash bench/mnist-stochastic.sh` (about 70 minutes on 2 cores). `gits-sampler eval --baseline-solver ipndm`:")
print(f"{first['samples']} digits per cell (classes 0-9 in turn, guidance {first['guidance']}) from the evaluation noise stream, starting")
print("noise and per-sample step seeds alike; each solver with k-diffusion's defaults (eta 1, s_noise 1, Brownian noise")
print("for the SDE solvers). Cells: FD of the LeNet features against the held-out digits; for the stochastic solvers,")
print(f"the difference to iPNDM's FD on the same schedule, NFE and noise ± paired bootstrap SE ({first['bootstrap']} resamples;")
print("negative: better than iPNDM). Schedules: polynomial (rho 7); the shipped GITS file (propagated cost, 3..10 steps,")
print("so NFE <= 10); a GITS search with the paper's cost for 3..20 steps (`gits --nfe 3..20`, warmup seed 0: disjoint noise).")
print("dpmpp_sde spends 2 NFE per step (no odd NFE). L2 to the teacher is not shown: it means nothing for a stochastic sample.")
print(f"For scale: the teacher (iPNDM, {first['teacher_nfe']} NFE) has FD {first['teacher']['fd']:.2f}; {first['samples']} real digits {first['real_fd']:.2f}.\n")
nfes = sorted({c["nfe"] for r in runs for c in r["cells"]})
solvers = list(dict.fromkeys(c["solver"] for r in runs for c in r["cells"]))
for title, key, fmt in (("FD", "fd", "{:.2f}"), ("Class accuracy", "accuracy", "{:.3f}")):
    print(f"### {title}\n")
    print("| solver | schedule | " + " | ".join(f"NFE {n}" for n in nfes) + " |")
    print("|---|---|" + "---:|" * len(nfes))
    for r, label in zip(runs, NAMES.values()):
        cells = {(c["solver"], c["nfe"]): c for c in r["cells"]}
        for s in solvers:
            row = []
            for n in nfes:
                c = cells.get((s, n))
                if c is None:
                    row.append("—")
                elif c["vs_baseline"] is None:
                    row.append(fmt.format(c[key]))
                else:
                    d, se = c["vs_baseline"][key], c["vs_baseline"][key + "_se"]
                    row.append(f"{fmt.format(c[key])} ({d:+.{2 if key == 'fd' else 3}f} ± {se:.{2 if key == 'fd' else 3}f})")
            print(f"| {s} | {label} | " + " | ".join(row) + " |")
    print()
