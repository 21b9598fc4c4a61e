#!/usr/bin/env bash
# Regenerates the GITS-on-toys section of bench/RESULTS.md: GITS variants against the
# polynomial schedule on the exact 2-D toy denoisers (bench/gits_toys.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example gits_toys | python3 bench/section.py gits-toys
