"""Prints docs/gits.md's first-jump table from a GITS file searched with --propagate: for each
measured grid point with sigma between 0.4 and 50, where one Euler jump from sigma_max lands,
its landing L2 to the teacher (the paper's cost), the L2 it leaves in the final sample once the
teacher continues exactly, and their ratio (the gain).
Usage: first-jump.py [FILE] (default bench/mnist-eval/gits-shipped.json)"""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "bench/mnist-eval/gits-shipped.json"
f = json.load(open(path))
p = f.get("propagation")
if not p:
    sys.exit(f"first-jump: {path} has no propagation record (search it with --propagate)")
print("| landing sigma | landing L2 (the paper's cost) | L2 it leaves in the final sample | gain |")
print("|---:|---:|---:|---:|")
for k, landing, left in zip(p["measured"], p["landing"], p["left"]):
    sigma = f["grid"][k]
    if 0.4 <= sigma <= 50:
        print(f"| {sigma:.3g} | {landing:.2f} | {left:.2f} | {left / landing:.2f} |")
print(f"\n{p['samples']} warmup trajectories; weights sha256 {f['model']['sha256'][:12]}.")
