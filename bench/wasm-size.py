"""Where a wasm module's code bytes go, by crate: reads the function bodies (code section) and
their names (the "name" custom section of an unstripped build, Rust's mangled or demangled
symbols) and sums body sizes per crate. Usage: python3 bench/wasm-size.py MODULE.wasm [TOP]
(the module cargo writes, before wasm-bindgen strips the names)."""
import re
import sys
from collections import Counter


def leb(data, i):
    """An unsigned LEB128 at data[i]: (value, next index)."""
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def sections(data):
    if data[:4] != b"\0asm":
        sys.exit("not a wasm module")
    i = 8
    while i < len(data):
        sid, i = data[i], i + 1
        size, i = leb(data, i)
        yield sid, data[i:i + size]
        i += size


def imported_functions(body):
    count, i = leb(body, 0)
    funcs = 0
    for _ in range(count):
        for _ in range(2):  # module and field names
            n, i = leb(body, i)
            i += n
        kind, i = body[i], i + 1
        if kind == 0:
            _, i = leb(body, i)
            funcs += 1
        elif kind == 1:
            i += 1
            flags, i = leb(body, i)
            _, i = leb(body, i)
            if flags & 1:
                _, i = leb(body, i)
        elif kind == 2:
            flags, i = leb(body, i)
            _, i = leb(body, i)
            if flags & 1:
                _, i = leb(body, i)
        elif kind == 3:
            i += 2
        else:
            sys.exit(f"unknown import kind {kind}")
    return funcs


def function_names(body):
    i, names = 0, {}
    n, i = leb(body, i)
    i += n  # "name"
    while i < len(body):
        sub, i = body[i], i + 1
        size, i = leb(body, i)
        end = i + size
        if sub == 1:
            count, j = leb(body, i)
            for _ in range(count):
                index, j = leb(body, j)
                length, j = leb(body, j)
                names[index] = body[j:j + length].decode("utf-8", "replace")
                j += length
        i = end
    return names


def crate_of(name):
    """The crate a symbol belongs to: the first path segment of a demangled name, or of a
    legacy-mangled one (_ZN<len><segment>...); generic impls `<a::B as c::D>` count for a."""
    m = re.match(r"_ZN(\d+)", name)
    if m:
        n = int(m.group(1))
        seg = name[len(m.group(0)):len(m.group(0)) + n]
    else:
        seg = re.split(r"::|\s", name.lstrip("<&*"), 1)[0]
    seg = re.sub(r"^_?\$LT\$", "", seg.lstrip("_"))
    return re.split(r"\.\.|\$", seg, 1)[0] or "?"


def main():
    data = open(sys.argv[1], "rb").read()
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    imported, sizes, names = 0, [], {}
    for sid, body in sections(data):
        if sid == 2:
            imported = imported_functions(body)
        elif sid == 10:
            count, i = leb(body, 0)
            for _ in range(count):
                size, j = leb(body, i)
                sizes.append(j - i + size)
                i = j + size
        elif sid == 0 and body[1:5] == b"name":
            names = function_names(body)
    by_crate = Counter()
    for k, size in enumerate(sizes):
        by_crate[crate_of(names.get(imported + k, "?"))] += size
    total = sum(sizes)
    print(f"{sys.argv[1]}: {len(data)} bytes, code {total} bytes in {len(sizes)} functions ({len(names)} named)")
    print("| crate | code bytes | share |\n|---|---:|---:|")
    for crate, size in by_crate.most_common(top):
        print(f"| {crate} | {size:,} | {100 * size / total:.1f} % |")


if __name__ == "__main__":
    main()
