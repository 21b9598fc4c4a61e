#!/usr/bin/env bash
# Regenerates the solver-error section of bench/RESULTS.md (everything between its markers).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --example solver_errors | python3 bench/section.py solver-errors
