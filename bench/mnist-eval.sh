#!/usr/bin/env bash
# Regenerates the two MNIST sections of bench/RESULTS.md with the evaluation protocol of `eval`
# (docs/gits.md) for the shipped int8 model:
#   1. the GITS searches (warmup seed 0): the paper's cost (gamma 1.15, 1.0, 1.3), the reference
#      code's `dev` metric, the propagated cost with student refinement (gits-prop.json is that
#      file without the refined entries: the DP's schedules of the same search), the shipped file
#      (propagated DP + optimal steps for iPNDM and Euler + AFS for Euler, which Euler then runs
#      by default) and the paper's cost with the AFS refinement for each of the two solvers;
#   2. the shipped schedule files (schedules/mnist-unet.gits.json is gits-shipped.json,
#      schedules/mnist-unet.gits-paper.json is gits-paper.json);
#   3. iPNDM and Euler on every schedule at NFE 4..10, SAMPLES digits per cell (default 1000) from
#      the evaluation's own noise stream, every cell against the polynomial schedule on the same
#      noise with a paired bootstrap SE (one `eval` per solver: each gets its own AFS file; the
#      shipped file there without AFS, `+no-afs`); then Euler on the shipped file as it runs by
#      default (with AFS; iPNDM's default is its `+no-afs` row); then f32 against int8;
#   4. the sections, rendered by bench/mnist-table.py.
# Each step writes one file in bench/mnist-eval/ and is skipped when that file exists and was
# made for the current weights (the sha256 it records) with as many digits, so a stopped run
# continues where it stopped (the files are committed). FORCE=1 redoes every step; a step whose
# command changes needs its file deleted.
# MODEL=CANDIDATE.int8.gsw (its f32 file beside it, or MODEL_F32=) searches and evaluates weights
# that are not shipped yet: steps 1 and 3 only, since the shipped schedule files and the sections
# must describe the shipped weights. Once those weights are copied into models/, a plain run finds
# every file current and does steps 2 and 4.
# About 4.5 hours on 2 cores, measured: the searches paper, dev and refined 36 minutes, shipped 33
# (25 of them its AFS), the AFS searches 37 each, the iPNDM and Euler tables 54 and 51 minutes,
# Euler on the shipped file 16, the f32 check 8.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gits-sampler/target}"
samples="${SAMPLES:-1000}"
cargo build --release --quiet --bin gits-sampler
cli="$CARGO_TARGET_DIR/release/gits-sampler"
shipped=models/mnist-unet.int8.gsw
model="${MODEL:-$shipped}"
model_f32="${MODEL_F32:-${model%.int8.gsw}.f32.gsw}"
out=bench/mnist-eval
mkdir -p "$out"

# current FILE WEIGHTS: FILE exists, records WEIGHTS' sha256 and (an evaluation) $samples digits.
current() {
  [ "${FORCE:-0}" != 1 ] && [ -f "$1" ] && python3 - "$1" "$(sha256sum "$2" | cut -d' ' -f1)" "$samples" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
sha = d["model"]["sha256"] if isinstance(d.get("model"), dict) else d.get("sha256")
sys.exit(0 if sha == sys.argv[2] and d.get("samples", int(sys.argv[3])) == int(sys.argv[3]) else 1)
EOF
}
# search NAME ARGS...: one GITS search into $out/gits-NAME.json (its log beside it).
search() {
  local name=$1; shift
  current "$out/gits-$name.json" "$model" && { echo "mnist-eval: gits-$name.json is current"; return; }
  echo "mnist-eval: searching gits-$name.json"
  "$cli" gits --model "$model" --warmup 256 --seed 0 "$@" --out "$out/gits-$name.json" 2> "$out/gits-$name.log"
}

search paper --metric l2 --gamma 1.15,1.0,1.3 --nfe 3..10
search dev --metric dev --gamma 1.15 --nfe 3..10
search refined --metric l2 --propagate --gamma 1.0 --nfe 3..10 --refine ipndm,euler --refine-samples 32 --refine-sweeps 3
search shipped --metric l2 --propagate --gamma 1.0 --nfe 3..10 --optimal-steps ipndm,euler --optimal-samples 32 \
  --afs --student euler
# AFS: the DP's k-step schedule with one point inserted runs k + 1 steps on k evaluations.
search afs-ipndm --metric l2 --gamma 1.15 --nfe 4..10 --afs --student ipndm
search afs-euler --metric l2 --gamma 1.15 --nfe 4..10 --afs --student euler
python3 -c 'import json, sys; f = json.load(open(sys.argv[1])); f["schedules"] = [s for s in f["schedules"] if not s.get("student")]; f["timing"]["refine_s"] = 0; json.dump(f, open(sys.argv[2], "w"), indent=2)' \
  "$out/gits-refined.json" "$out/gits-prop.json"

g() { echo "gits:$out/gits-$1.json@$2"; }
common="polynomial:7,$(g paper 1.15),$(g paper 1),$(g paper 1.3),$(g dev 1.15),$(g prop 1),$(g refined 1),$(g shipped 1)+no-afs"
for solver in ipndm euler; do
  if current "$out/table-$solver.json" "$model"; then echo "mnist-eval: table-$solver.json is current"; continue; fi
  echo "mnist-eval: evaluating $solver"
  "$cli" eval --model "$model" --solvers "$solver" --nfe 4..10 --samples "$samples" \
    --schedules "$common,$(g "afs-$solver" 1.15)+afs" --out "$out/table-$solver.json"
done
if ! current "$out/table-shipped.json" "$model"; then
  "$cli" eval --model "$model" --solvers euler --nfe 4..10 --samples "$samples" \
    --schedules "polynomial:7,$(g shipped 1)" --out "$out/table-shipped.json"
fi
if ! current "$out/f32.json" "$model_f32"; then
  "$cli" eval --model "$model_f32" --solvers ipndm,euler --nfe 10 --samples "$samples" \
    --schedules polynomial:7 --out "$out/f32.json"
fi
if [ "$model" != "$shipped" ]; then
  echo "mnist-eval: $model is not the shipped model; schedules/ and bench/RESULTS.md left as they are"
  exit 0
fi
cp "$out/gits-shipped.json" schedules/mnist-unet.gits.json
cp "$out/gits-paper.json" schedules/mnist-unet.gits-paper.json
python3 bench/mnist-table.py variants | python3 bench/section.py mnist-eval
python3 bench/mnist-table.py shipped | python3 bench/section.py mnist-optimal-steps
