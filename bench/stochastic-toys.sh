#!/usr/bin/env bash
# Regenerates the stochastic-samplers-on-toys section of bench/RESULTS.md: k-diffusion's
# stochastic samplers beside iPNDM against the exact distribution (bench/stochastic_toys.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example stochastic_toys | python3 bench/section.py stochastic-toys
