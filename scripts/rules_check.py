#!/usr/bin/env python3
"""Quick, approximate check of rule files (rules/*.toml) without building anything.

The real check is `cargo test` (the Rust engine, its validators and the prefilter proof);
this one uses Python's `re` in bytes mode, which agrees with Rust's byte regexes on the
subset rules may use, so rule authors get an answer in a second:

    python3 scripts/rules_check.py rules/devtools.toml [more files...]

Checks: required fields and their shapes, unique ids (across every file in rules/), no
look-around or back-references, bounded match length, every example matched and every
negative example not matched (negatives of rules with validators are only reported, since
validators are Rust code), and that each example's match contains a prefilter literal.
"""

from __future__ import annotations

import re
import sre_parse  # noqa: deprecated but still the way to get a pattern's width
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = {
    "cloud", "devtools", "observability", "comms", "payments", "saas", "ai", "keys", "generic",
    "contact", "financial", "network", "identity_docs", "health", "personal", "national_id",
    "person", "address",
}
CATEGORIES = {"secret", "pii", "person"}
FIELDS = {
    "id", "name", "family", "category", "label", "pattern", "prefilter", "min_digits", "validators",
    "keywords", "examples", "negative_examples", "source", "name_context", "window", "follows",
}
KEYWORD_WINDOW = 80
RUN_CHARS = set(b"0123456789 -.()/+")


def max_len(family: str) -> int:
    return 16384 if family == "keys" else 1024


def numeric_run_digits(b: bytes) -> int:
    best = cur = 0
    for c in b:
        if 48 <= c <= 57:
            cur += 1
        elif c not in RUN_CHARS:
            best, cur = max(best, cur), 0
    return max(best, cur)


def span_of(m: re.Match) -> tuple[int, int]:
    if "s" in m.re.groupindex and m.start("s") >= 0:
        return m.start("s"), m.end("s")
    return m.start(), m.end()


def has_keyword(text: bytes, s: int, e: int, keywords: list[str]) -> bool:
    window = text[max(0, s - KEYWORD_WINDOW): e + KEYWORD_WINDOW].lower()
    return any(k.lower().encode() in window for k in keywords)


def check_rule(r: dict, where: str) -> tuple[list[str], list[str]]:
    errs, notes = [], []
    rid = r.get("id", "?")
    at = f"{where}: rule `{rid}`"
    if "{names:" in r.get("pattern", ""):
        # Expanded from rules/attribute_names.toml by the Rust loader: checked by `cargo test`.
        return [], [f"{at}: uses the attribute-name dictionary; checked by cargo test only"]
    unknown = set(r) - FIELDS
    if unknown:
        errs.append(f"{at}: unknown fields {sorted(unknown)}")
    for f in ("id", "name", "family", "category", "label", "pattern"):
        if not isinstance(r.get(f), str) or not r.get(f):
            errs.append(f"{at}: `{f}` is required (a string)")
    if errs:
        return errs, notes
    if not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*", rid):
        errs.append(f"{at}: id must be lowercase dotted words")
    if r["family"] not in FAMILIES:
        errs.append(f"{at}: unknown family `{r['family']}`")
    if r["category"] not in CATEGORIES:
        errs.append(f"{at}: unknown category `{r['category']}`")
    if not re.fullmatch(r"[A-Z0-9_]+", r["label"]):
        errs.append(f"{at}: label must be UPPER_SNAKE_CASE")
    pat = r["pattern"]
    for bad, why in (("(?=", "look-ahead"), ("(?!", "negative look-ahead"), ("(?<=", "look-behind"),
                     ("(?<!", "negative look-behind"), ("(?P=", "back-reference")):
        if bad in pat:
            errs.append(f"{at}: {why} is not supported by the engine")
    if re.search(r"(?<!\\)\\[1-9]", pat):
        errs.append(f"{at}: back-references are not supported")
    if "[[:" in pat:
        errs.append(f"{at}: use explicit classes, not POSIX [[:name:]] (Python cannot check them)")
    try:
        rx = re.compile(pat.encode("utf-8"))
    except re.error as e:
        errs.append(f"{at}: pattern does not compile: {e}")
        return errs, notes
    width = sre_parse.parse(pat).getwidth()[1]
    if "window" in r:
        if not isinstance(r["window"], int) or not 0 < r["window"] <= max_len(r["family"]):
            errs.append(f"{at}: window must be a positive number of bytes up to {max_len(r['family'])}")
    elif width >= sre_parse.MAXREPEAT or width > max_len(r["family"]):
        shown = "unbounded" if width >= sre_parse.MAXREPEAT else f"{width} bytes"
        errs.append(f"{at}: longest match is {shown}; the limit is {max_len(r['family'])} (bound every repetition)")
    prefilter = r.get("prefilter", [])
    min_digits = r.get("min_digits")
    if not prefilter and not min_digits:
        errs.append(f"{at}: give `prefilter` literals or `min_digits`")
    if any((not isinstance(p, str)) or not p for p in prefilter):
        errs.append(f"{at}: prefilter literals are non-empty strings")
    keywords = r.get("keywords", [])
    ci = pat.startswith("(?i)") or bool(keywords)
    validators = r.get("validators", [])
    examples = r.get("examples", [])
    negatives = r.get("negative_examples", [])
    if len(examples) < 1:
        errs.append(f"{at}: no examples")
    if len(negatives) < 1:
        errs.append(f"{at}: no negative examples")
    if r["category"] == "secret" and r["family"] not in ("generic", "keys") and "source" not in r:
        notes.append(f"{at}: no `source` (where the format is documented)")

    def found(text: str) -> list[tuple[int, int]]:
        b = text.encode("utf-8")
        if min_digits and numeric_run_digits(b) < min_digits:
            return []
        out = []
        for m in rx.finditer(b):
            s, e = span_of(m)
            if s >= e:
                continue
            if keywords and not has_keyword(b, s, e, keywords):
                continue
            whole = m.group(0).lower() if ci else m.group(0)
            lits = [p.lower().encode() if ci else p.encode() for p in prefilter]
            if prefilter and not any(l in whole for l in lits):
                errs.append(f"{at}: a match in {text!r} contains none of the prefilter literals")
            out.append((s, e))
        return out

    for ex in examples:
        if not found(ex):
            errs.append(f"{at}: misses example {ex!r}")
    for ex in negatives:
        if found(ex):
            if validators:
                notes.append(f"{at}: negative {ex!r} matches the regex; validators {validators} must reject it")
            else:
                errs.append(f"{at}: matches negative example {ex!r}")
    return errs, notes


def main(argv: list[str]) -> int:
    targets = [Path(a) for a in argv] or sorted((ROOT / "rules").glob("*.toml"))
    all_files = [f for f in sorted((ROOT / "rules").glob("*.toml")) if f.name != "attribute_names.toml"]
    seen: dict[str, str] = {}
    errs: list[str] = []
    notes: list[str] = []
    counted = 0
    for f in sorted(set(all_files) | set(t.resolve() for t in targets)):
        try:
            data = tomllib.loads(f.read_text())
        except (tomllib.TOMLDecodeError, OSError) as e:
            errs.append(f"{f}: {e}")
            continue
        rules = data.get("rule", [])
        for r in rules:
            rid = r.get("id", "?")
            if rid in seen and seen[rid] != str(f):
                errs.append(f"{f.name}: id `{rid}` is also defined in {Path(seen[rid]).name}")
            elif rid in seen:
                errs.append(f"{f.name}: id `{rid}` is defined twice")
            seen[rid] = str(f)
        if f.resolve() not in [t.resolve() for t in targets]:
            continue
        for r in rules:
            e, n = check_rule(r, f.name)
            errs += e
            notes += n
            counted += 1
    for n in notes:
        print("note:", n)
    for e in errs:
        print("error:", e)
    print(f"{counted} rules checked, {len(errs)} errors, {len(notes)} notes")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
