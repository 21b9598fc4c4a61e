"""Renders bench/mnist-eval/ (the `eval` tables and the GITS files) as the MNIST section of
bench/RESULTS.md, on standard output (bench/mnist-eval.sh pipes it into bench/section.py)."""
import json

import sys
d = sys.argv[1] if len(sys.argv) > 1 else "bench/mnist-eval"
table = json.load(open(f"{d}/table.json"))
try:
    f32 = json.load(open(f"{d}/f32.json"))
except FileNotFoundError:
    f32 = None
files = {k: json.load(open(f"{d}/gits-{k}.json")) for k in ("paper", "prop", "dev", "refined")}
cells = table["cells"]
nfes = sorted({c["nfe"] for c in cells})
solvers = {"ipndm:4": "iPNDM", "euler": "Euler (DDIM)"}


def schedule_name(s):
    if not s.startswith("gits:"):
        return {"polynomial:7": "polynomial"}.get(s, s)
    path, gamma = s[5:].rsplit("@", 1)
    kind = {"paper": "GITS paper (l2)", "prop": "GITS propagated", "dev": "GITS dev",
            "refined": "GITS propagated + student refinement"}[path.split("gits-")[1][:-5]]
    return f"{kind}, γ {float(gamma):g}"


rows = []
for c in cells:
    key = (c["solver"], c["schedule"])
    if key not in rows:
        rows.append(key)
at = {(c["solver"], c["schedule"], c["nfe"]): c for c in cells}
t, n = table["teacher"], table["samples"]
paper_t = files["paper"]["timing"]
prop = files["prop"]
refined = files["refined"]
refine_n = sum(1 for f in refined["schedules"] if f.get("student"))
out = [
    "## MNIST: GITS variants against the polynomial schedule (shipped int8 U-Net)",
    "",
    f"Regenerate: `bash bench/mnist-eval.sh` ({table['seconds'] / 60:.0f} minutes for the table on 2 shared cores, plus the",
    "searches). Protocol (`gits-sampler eval`): every cell is "
    f"{n} digits (classes 0-9 in turn, guidance {table['guidance']:g}) from the evaluation's own noise stream",
    f"(`noise::eval_seed({table['seed']})`; the searches' warmup uses seed 0, so no evaluated digit starts from warmup",
    "noise); every schedule is run on the same noise as the polynomial baseline of its solver and NFE, and each",
    f"difference carries its paired bootstrap standard error ({table['bootstrap']} resamples of the digits, the same",
    "for both sides). FD: Fréchet distance of the shipped LeNet's 128 penultimate features against the 997",
    "held-out digits (not Inception features: compare within this table). L2: mean per-digit L2 distance to",
    f"the teacher (iPNDM, {table['teacher_nfe']} NFE, polynomial) from the same noise. For scale: the teacher's FD is",
    f"**{t['fd']:.2f}** (accuracy {t['accuracy']:.3f}); {n} real training digits against the held-out ones: FD **{table['real_fd']:.2f}**.",
    "",
    "Searches (all: iPNDM teacher, 61-point polynomial grid, 256 warmup trajectories, seed 0): *paper* = l2",
    f"Euler-jump cost (the paper's text), warmup {paper_t['warmup_s']:.0f} s, cost matrix {paper_t['cost_matrix_s']:.2f} s, DP",
    f"{paper_t['dp_s'] * 1000:.2f} ms; *dev* = the reference code's metric; *propagated* = the l2 cost times the",
    f"measured propagation gain of the landing point (docs/gits.md): {prop['propagation']['samples']} trajectories,",
    f"{len(prop['propagation']['measured'])} points, {prop['propagation']['nfe']} extra NFE per trajectory, "
    f"{prop['timing']['propagation_s']:.0f} s; *student refinement* = the propagated schedules, then each point moved",
    "by 1 or 2 grid points while that lowers the student's own mean L2 to the teacher on the first warmup",
    f"trajectories (docs/gits.md): {refine_n} schedules (one per solver and NFE) in {refined['timing']['refine_s']:.0f} s.",
    "",
]


def grid(title, value, note):
    lines = [f"### {title}", "", note, "", "| solver | schedule | " + " | ".join(f"NFE {k}" for k in nfes) + " |",
             "|---|---|" + "---:|" * len(nfes)]
    for s, sch in rows:
        vals = [value(at[(s, sch, k)]) if (s, sch, k) in at else "" for k in nfes]
        lines.append(f"| {solvers.get(s, s)} | {schedule_name(sch)} | " + " | ".join(vals) + " |")
    return lines + [""]


def l2(c):
    v = c["vs_baseline"]
    if v is None:
        return f"{c['l2_to_teacher']:.3f}"
    base = c["l2_to_teacher"] - v["l2_to_teacher"]
    ratio = c["l2_to_teacher"] / base
    mark = "**" if ratio + 2 * v["l2_to_teacher_se"] / base < 1 else ""
    return f"{mark}{ratio:.2f}{mark} ± {v['l2_to_teacher_se'] / base:.2f}"


def fd(c):
    v = c["vs_baseline"]
    if v is None:
        return f"{c['fd']:.2f}"
    mark = "**" if v["fd"] + 2 * v["fd_se"] < 0 else ""
    return f"{mark}{v['fd']:+.2f}{mark} ± {v['fd_se']:.2f}"


out += grid("L2 to the teacher", l2, "Polynomial rows: mean L2. Other rows: mean L2 as a ratio to polynomial's on the same noise ± SE; "
            "bold where the ratio is below 1 by more than 2 SE.")
out += grid("FD", fd, "Polynomial rows: FD. Other rows: FD minus polynomial's ± paired SE; bold where lower by more than 2 SE.")
out += grid("Class accuracy", lambda c: f"{c['accuracy']:.3f}", "Share of digits the LeNet judge assigns the class they were sampled for.")

target = {"ipndm:4": 0.8, "euler": 0.7}
out += ["### Against the targets", "",
        "Target: at every NFE 4..10, mean L2 to the teacher <= 0.8x polynomial's for iPNDM and <= 0.7x for Euler, and",
        "FD not worse than polynomial's by more than one SE. Per variant: the NFEs where both hold, and the worst L2 ratio.", "",
        "| solver | schedule | NFEs meeting the target | worst L2 ratio (NFE) |", "|---|---|---|---:|"]
for s, sch in rows:
    if sch == "polynomial:7":
        continue
    ok, worst = [], (0, None)
    for k in nfes:
        c = at[(s, sch, k)]
        v = c["vs_baseline"]
        ratio = c["l2_to_teacher"] / (c["l2_to_teacher"] - v["l2_to_teacher"])
        if ratio <= target.get(s, 0.8) and v["fd"] <= v["fd_se"]:
            ok.append(str(k))
        worst = max(worst, (ratio, k))
    out.append(f"| {solvers.get(s, s)} | {schedule_name(sch)} | {', '.join(ok) or 'none'} | {worst[0]:.2f} ({worst[1]}) |")
out += [""]

int8 = {(c["solver"], c["nfe"]): c for c in cells if c["schedule"] == "polynomial:7"}
out += [] if f32 is None else ["### f32 vs int8 weights (polynomial, same noise)", "", "| solver | NFE | FD f32 | FD int8 | L2 f32 | L2 int8 | accuracy f32 | accuracy int8 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|"]
for c in (f32 or {"cells": []})["cells"]:
    q = int8.get((c["solver"], c["nfe"]))
    if q:
        out.append(f"| {solvers.get(c['solver'], c['solver'])} | {c['nfe']} | {c['fd']:.2f} | {q['fd']:.2f} | {c['l2_to_teacher']:.3f} | "
                   f"{q['l2_to_teacher']:.3f} | {c['accuracy']:.3f} | {q['accuracy']:.3f} |")
out += [] if f32 is None else ["", f"(f32 teacher: FD {f32['teacher']['fd']:.2f}, accuracy {f32['teacher']['accuracy']:.3f}; each model's L2 is to its own teacher.)", ""]

g = prop["propagation"]
out += ["### Where the paper's cost misprices: the first jump", "",
        "For each measured landing point: the mean L2 by which the first Euler jump from sigma 80 misses the teacher",
        "point there (what the paper's cost charges), and the mean L2 it leaves in the final sample when the teacher",
        f"continues exactly from the jump's landing ({g['samples']} warmup trajectories; from `gits --propagate`).", "",
        "| landing sigma | landing L2 (paper's cost) | final L2 it leaves | gain |", "|---:|---:|---:|---:|"]
for i, k in enumerate(g["measured"]):
    out.append(f"| {prop['grid'][k]:.3f} | {g['landing'][i]:.3f} | {g['left'][i]:.3f} | {g['gains'][k]:.2f} |")
out += [""]
for name, f in files.items():
    for student in sorted({s.get("student") or "" for s in f["schedules"]}):
        chosen = [s for s in f["schedules"] if s["gamma"] == f["schedules"][0]["gamma"] and (s.get("student") or "") == student
                  and not s.get("afs") and 4 <= s["steps"] <= 10]
        what = f"refined for {solvers.get(student, student)}" if student else "(first gamma of the file)"
        out += [f"GITS {name} schedules {what} at 4..10 steps, first step to sigma: " + ", ".join(f"{s['sigmas'][1]:.2f}" for s in chosen) + "."]
print("\n".join(out))
