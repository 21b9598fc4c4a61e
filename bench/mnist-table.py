"""Renders bench/mnist-eval/ (the `eval` tables and the GITS files) as one of the MNIST sections of
bench/RESULTS.md, on standard output: `variants` (every GITS variant against the polynomial
schedule) or `shipped` (the shipped file's schedules as each solver runs them by default).
bench/mnist-eval.sh pipes each into bench/section.py. Usage: mnist-table.py variants|shipped [DIR]"""
import json
import os
import sys

which = sys.argv[1]
d = sys.argv[2] if len(sys.argv) > 2 else "bench/mnist-eval"
tables = [json.load(open(f"{d}/table-{s}.json")) for s in ("ipndm", "euler", "shipped") if os.path.exists(f"{d}/table-{s}.json")]
table = tables[0]
for t in tables[1:]:
    # One evaluation per solver, on the same weights and noise: the teacher must come out the same.
    same = t["sha256"] == table["sha256"] and t["samples"] == table["samples"] and t["seed"] == table["seed"]
    if not same or abs(t["teacher"]["fd"] - table["teacher"]["fd"]) > 1e-9:
        sys.exit("mnist-table: the per-solver evaluations were not made on the same weights and noise")
at = {}
for t in tables:
    for c in t["cells"]:
        twin = at.setdefault((c["solver"], c["schedule"], c["nfe"]), c)
        if (twin["fd"], twin["l2_to_teacher"]) != (c["fd"], c["l2_to_teacher"]):
            # The same solver, schedule and noise in two evaluations must give the same digits.
            sys.exit(f"mnist-table: {c['solver']} on {c['schedule']} at NFE {c['nfe']} differs between evaluations")
cells = list(at.values())
seconds = sum(t["seconds"] for t in tables)
try:
    f32 = json.load(open(f"{d}/f32.json"))
except FileNotFoundError:
    f32 = None
files = {k: json.load(open(f"{d}/gits-{k}.json"))
         for k in ("paper", "prop", "dev", "refined", "shipped", "afs-ipndm", "afs-euler") if os.path.exists(f"{d}/gits-{k}.json")}
nfes = sorted({c["nfe"] for c in cells})
solvers = {"ipndm:4": "iPNDM", "euler": "Euler (DDIM)"}
kinds = {"paper": "GITS paper (l2)", "prop": "GITS propagated", "dev": "GITS dev",
         "refined": "GITS propagated + student refinement", "shipped": "GITS shipped",
         "afs-ipndm": "GITS paper (l2)", "afs-euler": "GITS paper (l2)"}
target = {"ipndm:4": 0.8, "euler": 0.7}
t, n = table["teacher"], table["samples"]


def file_key(schedule):
    """'gits:DIR/gits-NAME.json@G[+afs|+no-afs]' -> NAME (None for a named family)."""
    if not schedule.startswith("gits:"):
        return None
    return os.path.basename(schedule[5:].rsplit("@", 1)[0])[len("gits-"):-len(".json")]


def schedule_name(s, solver=None):
    """The row label; `solver` makes the shipped file's rows say what that solver runs on."""
    if not s.startswith("gits:"):
        return {"polynomial:7": "polynomial"}.get(s, s)
    afs = s.endswith("+afs")
    gamma = s.removesuffix("+afs").removesuffix("+no-afs").rsplit("@", 1)[1]
    name = f"{kinds[file_key(s)]}, γ {float(gamma):g}"
    if file_key(s) == "shipped":
        return name + ": " + shipped_kind(s, solver)
    return name + (" + AFS" if afs else "")


def shipped_afs(solver):
    """The shipped file holds AFS entries for `solver`, which it then runs on by default."""
    return any(e.get("afs") and e.get("student") == solver for e in files["shipped"]["schedules"])


def shipped_kind(s, solver):
    """What a solver runs on in the shipped file under schedule `s`."""
    if s.endswith("+no-afs") or not shipped_afs(solver):
        return "propagated DP + optimal steps, without AFS"
    return f"propagated DP + AFS ({solvers[solver].split()[0]}'s default)"


rows = []
for c in cells:
    key = (c["solver"], c["schedule"])
    if key not in rows:
        rows.append(key)


def ratio(c):
    """Mean L2 to the teacher as a ratio to the baseline's on the same noise, and its SE."""
    v = c["vs_baseline"]
    base = c["l2_to_teacher"] - v["l2_to_teacher"]
    return c["l2_to_teacher"] / base, v["l2_to_teacher_se"] / base


def meets(c, solver):
    """The issue's target for one cell: L2 ratio at most the solver's and FD not worse by more than one SE."""
    v = c["vs_baseline"]
    return ratio(c)[0] <= target.get(solver, 0.8) and v["fd"] <= v["fd_se"]


def scale():
    return [f"Teacher (iPNDM, {table['teacher_nfe']} NFE, polynomial): FD **{t['fd']:.2f}**, accuracy {t['accuracy']:.3f}; "
            f"{n} real training digits against the held-out ones: FD **{table['real_fd']:.2f}**; the judge reads the",
            f"held-out real digits at accuracy {table.get('real_accuracy', float('nan')):.3f}."]


def protocol():
    return [f"Protocol (`gits-sampler eval`, one run per solver and one for the shipped file's Euler default, {seconds / 60:.0f} minutes in all on 2 shared cores): every cell is "
            f"{n} digits (classes 0-9 in turn, guidance {table['guidance']:g}) from the evaluation's own noise stream",
            f"(`noise::eval_seed({table['seed']})`; the searches' warmup uses seed 0, so no evaluated digit starts from warmup",
            "noise); every schedule is run on the same noise as the polynomial baseline of its solver and NFE, and each",
            f"difference carries its paired bootstrap standard error ({table['bootstrap']} resamples of the digits, the same",
            "for both sides). FD: Fréchet distance of the shipped LeNet's 128 penultimate features against the 997",
            "held-out digits (not Inception features: compare within this table). L2: mean per-digit L2 distance to",
            f"the teacher from the same noise. Weights sha256 {table['sha256'][:12]}."]


def grid(title, value, note):
    lines = [f"### {title}", "", note, "", "| solver | schedule | " + " | ".join(f"NFE {k}" for k in nfes) + " |",
             "|---|---|" + "---:|" * len(nfes)]
    for s, sch in rows:
        vals = [value(at[(s, sch, k)]) if (s, sch, k) in at else "" for k in nfes]
        lines.append(f"| {solvers.get(s, s)} | {schedule_name(sch, s)} | " + " | ".join(vals) + " |")
    return lines + [""]


def l2(c):
    if c["vs_baseline"] is None:
        return f"{c['l2_to_teacher']:.3f}"
    r, se = ratio(c)
    mark = "**" if r + 2 * se < 1 else ""
    return f"{mark}{r:.2f}{mark} ± {se:.2f}"


def fd(c):
    v = c["vs_baseline"]
    if v is None:
        return f"{c['fd']:.2f}"
    mark = "**" if v["fd"] + 2 * v["fd_se"] < 0 else ""
    return f"{mark}{v['fd']:+.2f}{mark} ± {v['fd_se']:.2f}"


def first_steps():
    """The first sigma each file's schedules jump to: where the paper's cost and ours differ most."""
    lines = []
    for name, f in files.items():
        for student in sorted({s.get("student") or "" for s in f["schedules"]}):
            for afs in sorted({bool(s.get("afs")) for s in f["schedules"]}):
                chosen = [s for s in f["schedules"] if s["gamma"] == f["schedules"][0]["gamma"] and (s.get("student") or "") == student
                          and bool(s.get("afs")) == afs and 4 <= s["steps"] <= 10 + afs]
                if not chosen:
                    continue
                what = (f"for {solvers.get(student, student)}" if student else "(the DP's)") + (" with AFS" if afs else "")
                firsts = ", ".join(f"{s['sigmas'][1]:.2f}" + (f" then {s['sigmas'][2]:.2f}" if afs else "") for s in chosen)
                lines.append(f"GITS {name} schedules {what}, γ {f['schedules'][0]['gamma']:g}, at "
                             f"{chosen[0]['steps']}..{chosen[-1]['steps']} steps, first step to sigma: {firsts}.")
    return lines


def variants():
    paper_t = files["paper"]["timing"]
    prop, refined = files["prop"], files["refined"]
    refine_n = sum(1 for f in refined["schedules"] if f.get("student"))
    afs_s = " and ".join(f"{files[k]['timing']['afs_s']:.0f} s ({k[4:]})" for k in ("afs-ipndm", "afs-euler") if k in files)
    out = ["## MNIST: GITS variants against the polynomial schedule (shipped int8 U-Net)", "",
           "Regenerate: `bash bench/mnist-eval.sh` (it skips the searches and evaluations already made for these",
           "weights)."] + protocol() + [""] + scale() + [
        "",
        "Searches (all: iPNDM teacher, 61-point polynomial grid, 256 warmup trajectories, seed 0): *paper* = l2",
        f"Euler-jump cost (the paper's text), warmup {paper_t['warmup_s']:.0f} s, cost matrix {paper_t['cost_matrix_s']:.2f} s, DP",
        f"{paper_t['dp_s'] * 1000:.2f} ms; *dev* = the reference code's metric; *propagated* = the l2 cost times the",
        f"measured propagation gain of the landing point (docs/gits.md): {prop['propagation']['samples']} trajectories,",
        f"{len(prop['propagation']['measured'])} points, {prop['propagation']['nfe']} extra NFE per trajectory, "
        f"{prop['timing']['propagation_s']:.0f} s; *student refinement* = the propagated schedules, then each point moved",
        "by 1 or 2 grid points while that lowers the student's own mean L2 to the teacher on the first warmup",
        f"trajectories (docs/gits.md): {refine_n} schedules (one per solver and NFE) in {refined['timing']['refine_s']:.0f} s;",
        "*shipped* = the next section (its file without AFS: the propagated DP + optimal steps; and as Euler runs it",
        "by default, with AFS, in the last Euler row); *+ AFS* = the paper's γ 1.15 schedule with one grid point inserted before its",
        "first choice, the one that brings the solver's own samples (analytic first step, all 256 warmup trajectories)",
        f"closest to the teacher's, searched for each solver: {afs_s or 'not searched'}.",
        "",
    ]
    out += grid("L2 to the teacher", l2, "Polynomial rows: mean L2. Other rows: mean L2 as a ratio to polynomial's on the same noise ± SE; "
                "bold where the ratio is below 1 by more than 2 SE.")
    out += grid("FD", fd, "Polynomial rows: FD. Other rows: FD minus polynomial's ± paired SE; bold where lower by more than 2 SE.")
    out += grid("Class accuracy", lambda c: f"{c['accuracy']:.3f}", "Share of digits the LeNet judge assigns the class they were sampled for.")
    out += ["### Against the targets", "",
            "Target: at every NFE 4..10, mean L2 to the teacher <= 0.8x polynomial's for iPNDM and <= 0.7x for Euler, and",
            "FD not worse than polynomial's by more than one SE. Per variant: the NFEs where both hold, and the worst L2 ratio.", "",
            "| solver | schedule | NFEs meeting the target | worst L2 ratio (NFE) |", "|---|---|---|---:|"]
    for s, sch in rows:
        if sch == table["baseline"]:
            continue
        here = [at[(s, sch, k)] for k in nfes if (s, sch, k) in at]
        ok = [str(c["nfe"]) for c in here if meets(c, s)]
        worst = max((ratio(c)[0], c["nfe"]) for c in here)
        out.append(f"| {solvers.get(s, s)} | {schedule_name(sch, s)} | {', '.join(ok) or 'none'} | {worst[0]:.2f} ({worst[1]}) |")
    out += [""]
    if f32 is not None:
        int8 = {(c["solver"], c["nfe"]): c for c in cells if c["schedule"] == table["baseline"]}
        out += ["### f32 vs int8 weights (polynomial, same noise)", "",
                "| solver | NFE | FD f32 | FD int8 | L2 f32 | L2 int8 | accuracy f32 | accuracy int8 |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for c in f32["cells"]:
            q = int8.get((c["solver"], c["nfe"]))
            if q:
                out.append(f"| {solvers.get(c['solver'], c['solver'])} | {c['nfe']} | {c['fd']:.2f} | {q['fd']:.2f} | {c['l2_to_teacher']:.3f} | "
                           f"{q['l2_to_teacher']:.3f} | {c['accuracy']:.3f} | {q['accuracy']:.3f} |")
        out += ["", f"(f32 teacher: FD {f32['teacher']['fd']:.2f}, accuracy {f32['teacher']['accuracy']:.3f}; each model's L2 is to its own teacher.)", ""]
    g = prop["propagation"]
    out += ["### Where the paper's cost misprices: the first jump", "",
            "For each measured landing point: the mean L2 by which the first Euler jump from sigma 80 misses the teacher",
            "point there (what the paper's cost charges), and the mean L2 it leaves in the final sample when the teacher",
            f"continues exactly from the jump's landing ({g['samples']} warmup trajectories; from `gits --propagate`).", "",
            "| landing sigma | landing L2 (paper's cost) | final L2 it leaves | gain |", "|---:|---:|---:|---:|"]
    for i, k in enumerate(g["measured"]):
        out.append(f"| {prop['grid'][k]:.3f} | {g['landing'][i]:.3f} | {g['left'][i]:.3f} | {g['gains'][k]:.2f} |")
    return out + [""] + first_steps()


def default_row(s):
    """The shipped file's row for solver `s` as it runs by default: the file's own choice of AFS
    where that was evaluated, else without AFS (where the file holds no AFS entry for `s`)."""
    mine = [sch for so, sch in rows if so == s and file_key(sch) == "shipped"]
    chosen = [sch for sch in mine if not sch.endswith("afs")]
    return (chosen or ([] if shipped_afs(s) else [sch for sch in mine if sch.endswith("+no-afs")]) or [None])[0]


def shipped():
    f = files["shipped"]
    tm = f["timing"]
    out = ["## MNIST: the shipped GITS file, the optimal-step search (shipped int8 U-Net)", "",
           "`schedules/mnist-unet.gits.json` is this search (file and log in bench/mnist-eval/gits-shipped.*):",
           "`gits --model models/mnist-unet.int8.gsw --warmup 256 --seed 0 --metric l2 --propagate --gamma 1.0",
           "--nfe 3..10 --optimal-steps ipndm,euler --optimal-samples 32 --afs --student euler`: the propagated DP's",
           "schedules at γ 1 (every solver but iPNDM and Euler samples on them), for iPNDM and Euler the schedules of",
           "the optimal-step search of docs/gits.md#optimal-steps (DP over the solver's own states on 32 warmup",
           "trajectories), and for Euler the DP's schedules with one grid point inserted before the first choice,",
           "the one that brings Euler's samples with the analytic first step (all 256 warmup trajectories) closest",
           "to the teacher's. Euler runs on those AFS schedules by default (the page, `sample`, `eval`; `--no-afs`",
           "or `+no-afs` for its optimal steps), iPNDM on its optimal steps. Times on 2 shared cores: warmup",
           f"{tm['warmup_s']:.0f} s, propagation gains {tm['propagation_s']:.0f} s, optimal steps {tm['optimal_steps_s']:.0f} s for both solvers, AFS",
           f"{tm['afs_s']:.0f} s. Judged with the protocol of the MNIST section above (its *GITS shipped* rows; the same",
           "noise for both columns; differences are the shipped schedule minus polynomial).", ""] + scale() + [""]
    summary = []
    for s in solvers:
        key = default_row(s)
        here = [at[(s, key, k)] for k in nfes if (s, key, k) in at]
        if not here:
            continue
        out += [f"{solvers[s]}, {shipped_kind(key, s)}:", "",
                "| NFE | polynomial FD / acc / L2 | shipped GITS FD / acc / L2 | L2 ratio | difference (± paired SE) |",
                "|---:|---|---|---:|---|"]
        for c in here:
            v, b = c["vs_baseline"], at[(s, table["baseline"], c["nfe"])]
            r = ratio(c)[0]
            mark = "**" if meets(c, s) else ""
            out.append(f"| {c['nfe']} | {b['fd']:.2f} / {b['accuracy']:.3f} / {b['l2_to_teacher']:.3f} | "
                       f"{c['fd']:.2f} / {c['accuracy']:.3f} / {c['l2_to_teacher']:.3f} | {mark}{r:.2f}{mark} | "
                       f"FD {v['fd']:+.2f} ± {v['fd_se']:.2f}  acc {v['accuracy']:+.3f} ± {v['accuracy_se']:.3f}  "
                       f"L2 {v['l2_to_teacher']:+.3f} ± {v['l2_to_teacher_se']:.3f} |")
        out += [""]
        ok = [c["nfe"] for c in here if meets(c, s)]
        missed = [c for c in here if not meets(c, s)]
        rs = [ratio(c)[0] for c in here]
        line = f"{solvers[s]}: L2 {min(rs):.2f}-{max(rs):.2f}x polynomial's; the target (<= {target[s]}x, FD not worse by more than one SE) holds at "
        line += f"{len(ok)} of {len(here)} NFEs"
        line += "" if not missed else " (missed at " + ", ".join(
            f"NFE {c['nfe']}: ratio {ratio(c)[0]:.3f}, FD {c['vs_baseline']['fd']:+.2f} ± {c['vs_baseline']['fd_se']:.2f}" for c in missed) + ")"
        summary.append(line + ".")
    out += ["Against the targets of the GITS issue (bold ratios meet them): " + " ".join(summary)]
    return out


print("\n".join({"variants": variants, "shipped": shipped}[which]()))
