"""Writes standard input into bench/RESULTS.md as the section NAME: everything between
<!-- NAME:begin --> and <!-- NAME:end -->, replaced, or appended when the markers are missing."""
import re, sys

name = sys.argv[1]
path = "bench/RESULTS.md"
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
section = f"{begin}\n{sys.stdin.read().rstrip()}\n{end}"
text = open(path).read()
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + section + "\n"
open(path, "w").write(text)
print(f"bench/RESULTS.md: section {name} updated")
