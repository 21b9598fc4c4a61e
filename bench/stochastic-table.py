"""Renders bench/mnist-eval/stochastic-{polynomial,gits}.json (bench/mnist-stochastic.sh) as the
MNIST stochastic-samplers section of bench/RESULTS.md (prints it; section.py writes it)."""
import json

runs = [json.load(open(f"bench/mnist-eval/stochastic-{name}.json")) for name in ("polynomial", "gits")]
first = runs[0]
print("## MNIST: stochastic samplers beside iPNDM (shipped int8 U-Net)\n")
print("Regenerate: `bash bench/mnist-stochastic.sh` (about 40 minutes on 2 cores). `gits-sampler eval --baseline-solver ipndm`:")
print(f"{first['samples']} digits per cell (classes 0-9 in turn, guidance {first['guidance']}) from the evaluation noise stream, starting")
print("noise and per-sample step seeds alike; each solver with k-diffusion's defaults (eta 1, s_noise 1, Brownian noise")
print("for the SDE solvers). Cells: FD of the LeNet features against the held-out digits; for the stochastic solvers,")
print(f"the difference to iPNDM's FD on the same schedule, NFE and noise ± paired bootstrap SE ({first['bootstrap']} resamples;")
print("negative: better than iPNDM). The shipped GITS file has schedules of 3..10 steps, so GITS stops at NFE 10;")
print("dpmpp_sde spends 2 NFE per step (no odd NFE). L2 to the teacher is not shown: it means nothing for a stochastic sample.")
print(f"For scale: the teacher (iPNDM, {first['teacher_nfe']} NFE) has FD {first['teacher']['fd']:.2f}; {first['samples']} real digits {first['real_fd']:.2f}.\n")
nfes = sorted({c["nfe"] for r in runs for c in r["cells"]})
solvers = list(dict.fromkeys(c["solver"] for r in runs for c in r["cells"]))
for title, key, fmt in (("FD", "fd", "{:.2f}"), ("Class accuracy", "accuracy", "{:.3f}")):
    print(f"### {title}\n")
    print("| solver | schedule | " + " | ".join(f"NFE {n}" for n in nfes) + " |")
    print("|---|---|" + "---:|" * len(nfes))
    for r, label in zip(runs, ("polynomial", "GITS (shipped)")):
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
