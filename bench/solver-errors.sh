#!/usr/bin/env bash
# Regenerates the solver-error section of bench/RESULTS.md (everything between its markers).
set -euo pipefail
cd "$(dirname "$0")/.."
section=$(cargo run --quiet --example solver_errors)
python3 - "$section" <<'PY'
import re, sys
path = "bench/RESULTS.md"
begin, end = "<!-- solver-errors:begin -->", "<!-- solver-errors:end -->"
text = open(path).read()
new = f"{begin}\n{sys.argv[1]}\n{end}"
text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: new, text, flags=re.S)
open(path, "w").write(text)
PY
echo "bench/RESULTS.md updated"
