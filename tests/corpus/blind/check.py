#!/usr/bin/env python3
"""Validate a blind corpus file and print its composition.

    python3 check.py corpus.jsonl            # exit 1 on any problem
    python3 check.py corpus.jsonl --stats    # also print counts (markdown)

Checks: every line is JSON with the documented fields; every item is valid
DynamoDB JSON (known type tags, non-empty duplicate-free sets, numbers that
parse with at most 38 significant digits, valid base64, nesting at most 32
levels, item size under 400 KB); pk/sk are strings holding no planted value;
every planted and decoy value occurs in the item's readable text (strings,
numbers, set elements, map keys, base64-decoded binary); planted values are
at least 8 characters; no decoy contains a planted value or vice versa;
`harmless` is true exactly when nothing is planted; classes are known.
Only the standard library is used.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import collections
import json
import re
import sys
from decimal import Decimal, InvalidOperation

TYPES = {"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "M", "L"}
CLASSES = {"secret", "pii", "person"}
NUM_RE = re.compile(r"^-?(\d+)(\.\d+)?([eE][+-]?\d+)?$")


class Bad(Exception):
    pass


def check_number(s: str):
    if not isinstance(s, str) or not NUM_RE.match(s):
        raise Bad(f"bad number {s!r}")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise Bad(f"bad number {s!r}")
    digits = "".join(map(str, d.as_tuple().digits)).lstrip("0").rstrip("0")  # exact, no context rounding
    if len(digits) > 38:
        raise Bad(f"number with more than 38 significant digits: {s}")


def check_b64(s: str) -> bytes:
    if not isinstance(s, str):
        raise Bad("binary value is not a string")
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise Bad(f"invalid base64 {s[:40]!r}")


def walk(av, depth, out):
    if depth > 32:
        raise Bad("nesting deeper than 32 levels")
    if not isinstance(av, dict) or len(av) != 1:
        raise Bad(f"attribute value must be a one-key object: {str(av)[:80]}")
    (t, v), = av.items()
    if t not in TYPES:
        raise Bad(f"unknown type tag {t!r}")
    if t == "S":
        if not isinstance(v, str):
            raise Bad("S must hold a string")
        out.append(v)
    elif t == "N":
        check_number(v)
        out.append(v)
    elif t == "B":
        out.append(check_b64(v).decode("utf-8", "replace"))
    elif t == "BOOL":
        if not isinstance(v, bool):
            raise Bad("BOOL must hold true/false")
    elif t == "NULL":
        if v is not True:
            raise Bad("NULL must hold true")
    elif t in ("SS", "NS", "BS"):
        if not isinstance(v, list) or not v:
            raise Bad(f"{t} must be a non-empty list")
        if len(set(v)) != len(v):
            raise Bad(f"{t} has duplicate elements")
        for x in v:
            if t == "SS":
                if not isinstance(x, str):
                    raise Bad("SS element not a string")
                out.append(x)
            elif t == "NS":
                check_number(x)
                out.append(x)
            else:
                out.append(check_b64(x).decode("utf-8", "replace"))
        if t == "NS" and len({Decimal(x) for x in v}) != len(v):
            raise Bad("NS has numerically equal elements")
        if t == "BS" and len({check_b64(x) for x in v}) != len(v):
            raise Bad("BS has duplicate binaries")
    elif t == "M":
        if not isinstance(v, dict):
            raise Bad("M must hold an object")
        for k, x in v.items():
            out.append(k)
            walk(x, depth + 1, out)
    elif t == "L":
        if not isinstance(v, list):
            raise Bad("L must hold a list")
        for x in v:
            walk(x, depth + 1, out)


def check_record(rec) -> list[str]:
    for f in ("id", "shape", "keys", "item", "harmless", "planted", "decoys"):
        if f not in rec:
            raise Bad(f"missing field {f}")
    item = rec["item"]
    if not isinstance(item, dict) or not item:
        raise Bad("item must be a non-empty object")
    if rec["keys"] != ["pk", "sk"]:
        raise Bad("keys must be [pk, sk]")
    for k in ("pk", "sk"):
        if k not in item or set(item[k]) != {"S"}:
            raise Bad(f"{k} must be an S attribute")
    texts = []
    for k, v in item.items():
        texts.append(k)
        walk(v, 1, texts)
    size = len(json.dumps(item, ensure_ascii=False).encode())
    if size >= 400 * 1024:
        raise Bad(f"item is {size} bytes")
    planted = rec["planted"]
    decoys = rec["decoys"]
    if rec["harmless"] != (len(planted) == 0):
        raise Bad("harmless flag disagrees with planted list")
    for p in planted:
        v = p.get("value")
        if not isinstance(v, str) or len(v) < 8:
            raise Bad(f"planted value shorter than 8: {v!r}")
        if p.get("class") not in CLASSES:
            raise Bad(f"bad class {p.get('class')}")
        if not re.fullmatch(r"[a-z0-9_]+/[a-z0-9_]+", p.get("kind", "")):
            raise Bad(f"bad kind {p.get('kind')}")
        if not any(v in t for t in texts):
            raise Bad(f"planted value not in item: {v[:50]!r}")
        for k in ("pk", "sk"):
            if v in item[k]["S"]:
                raise Bad("planted value inside a key attribute")
    # a perfect sanitizer removes exactly the planted values; nothing left over may then still hold
    # a 12-character piece of one, or the leak measurement would count it as leaked
    vals = sorted({p["value"] for p in planted}, key=len, reverse=True)
    rest = []
    for t in texts:
        for v in vals:
            t = t.replace(v, "\x00")
        rest.append(t)
    for v in vals:
        for i in range(len(v) - 11):
            piece = v[i:i + 12]
            if any(piece in t for t in rest):
                raise Bad(f"12-char piece {piece!r} of planted {v[:30]!r} also occurs outside the planted value")
    for d in decoys:
        v = d.get("value")
        if not isinstance(v, str) or not v:
            raise Bad("empty decoy")
        if not any(v in t for t in texts):
            raise Bad(f"decoy not in item: {v[:50]!r}")
        for p in planted:
            if p["value"] in v or v in p["value"]:
                raise Bad(f"decoy {v[:40]!r} overlaps planted {p['value'][:40]!r}")
    return texts


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--stats", action="store_true")
    ap.add_argument("--formats", help="FORMATS.md: fail when a planted kind has no row there")
    a = ap.parse_args(argv)
    errors = 0
    ids = set()
    shapes = collections.Counter()
    shapes_h = collections.Counter()
    classes = collections.Counter()
    kinds = collections.Counter()
    fam_kinds = collections.defaultdict(set)
    dkinds = collections.Counter()
    n = harmless = 0
    with open(a.path, encoding="utf-8") as fh:
        for ln, line in enumerate(fh, 1):
            try:
                rec = json.loads(line)
                check_record(rec)
                if rec["id"] in ids:
                    raise Bad("duplicate id")
                ids.add(rec["id"])
            except (Bad, json.JSONDecodeError) as e:
                errors += 1
                if errors <= 20:
                    print(f"line {ln}: {e}", file=sys.stderr)
                continue
            n += 1
            shapes[rec["shape"]] += 1
            if rec["harmless"]:
                harmless += 1
                shapes_h[rec["shape"]] += 1
            for p in rec["planted"]:
                classes[p["class"]] += 1
                kinds[p["kind"]] += 1
                fam_kinds[p["kind"].split("/")[0]].add(p["kind"])
            for d in rec["decoys"]:
                dkinds[d["kind"]] += 1
    if a.formats:
        with open(a.formats, encoding="utf-8") as fh:
            documented = set(re.findall(r"^\| `([a-z0-9_]+/[a-z0-9_]+)` \|", fh.read(), re.M))
        undocumented = sorted(set(kinds) - documented)
        for k in undocumented:
            print(f"kind without a FORMATS.md row: {k}", file=sys.stderr)
        errors += len(undocumented)
    print(f"{n} items checked, {errors} problems, {harmless} harmless ({harmless / max(n, 1):.1%})")
    if a.stats:
        print("\n| shape | items | harmless | sensitive |\n|---|---:|---:|---:|")
        for s, c in sorted(shapes.items(), key=lambda x: -x[1]):
            print(f"| {s} | {c} | {shapes_h[s]} | {c - shapes_h[s]} |")
        print("\n| class | planted values |\n|---|---:|")
        for c, k in sorted(classes.items()):
            print(f"| {c} | {k} |")
        print("\n| family | kinds | planted values |\n|---|---:|---:|")
        for f in sorted(fam_kinds):
            print(f"| {f} | {len(fam_kinds[f])} | {sum(kinds[k] for k in fam_kinds[f])} |")
        print(f"\ndistinct planted kinds: {len(kinds)}; min per kind {min(kinds.values())}, max {max(kinds.values())}")
        print(f"decoys: {sum(dkinds.values())} values of {len(dkinds)} kinds")
        print("\n| decoy kind | count |\n|---|---:|")
        for k, c in sorted(dkinds.items(), key=lambda x: -x[1]):
            print(f"| {k} | {c} |")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
