"""`make similarity SUBMISSIONS=<folder or zip> [SIMILARITY_OUT=dir]`: which students' answers look copied.

    python autograder/similarity.py SUBMISSIONS [--out DIR] [--release DIR] [--source DIR] [--top N]

For each assignment, every pair of students is compared on their solution cells (nbgrader `solution` code cells,
matched by grade_id). Student code is parsed, never run or unpickled. Each cell is reduced to a token stream that
ignores what does not matter: comments, docstrings, formatting, the names the student chose (every name the cell
binds becomes `V`), string contents, and the order of top-level functions (each top-level def is fingerprinted on
its own). Fingerprints are winnowed k-grams of that stream (Schleimer, Wilkerson, Aiken 2003, the idea behind
MOSS). Fingerprints of the instructor's published code (every code cell of the release notebook: starter stubs,
examples, public tests; code blocks in its markdown) are removed, and the rest are weighted by rarity
(`log((N+1)/df)`, scaled to 1 for code two students share): code that more than half of a class of 5 or more
wrote is no evidence. A cell that does not parse is compared as plain tokens. Writes `similarity.csv` (one row per
assignment and pair of students) and `similarity.html` (heat map of the class, pairs ranked per exercise, side by
side with the matching lines highlighted). See autograder/README.md, "Similarity report".

`write_similarity(submitted, out_dir, release_dir)` is the entry point for `grade.py`: `submitted` is a collected
folder (`<student>/<assignment>/<notebook>.ipynb`) or a list of (student, assignment, notebook path) tuples.
"""

from __future__ import annotations

import argparse
import base64
import builtins
import csv
import functools
import html
import io
import json
import keyword
import math
import re
import sys
import tempfile
import time
import tokenize
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import grade  # noqa: E402  (collect and prepare: the grader's defensive reading of submissions)
from prepare import cell_source  # noqa: E402

K = 5                      # tokens per k-gram: shorter matches are noise
WINDOW = 4                 # winnowing window: any match of K + WINDOW - 1 = 8 tokens is always detected
MAX_CELL_CHARS = 100_000   # a solution cell longer than this is not compared (message), never parsed
COMMON_FRACTION = 0.5      # fingerprints in more than this fraction of the class carry no weight...
MIN_CLASS_FOR_COMMON = 5   # ...in a class of at least this many students
SMOOTHING = 2.0            # full-weight fingerprints added to every union: a few shared tokens never score 1.0
BUILTIN_NAMES = frozenset(dir(builtins))
MAGIC = re.compile(r"^\s*[%!]")
FALLBACK_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\"[^\"]*\"?|'[^']*'?|#.*|\*\*|//|==|!=|<=|>=|->|[-+*/%@&|^]=|\S")
GROUP_AT = 0.5             # the heat map puts students linked by pairs this similar next to each other
CHUNK = 4096              # fingerprint columns per block of the pair matrix product


# ------------------------------------------------------------------ normalising one cell
@dataclass
class Cell:
    """One solution cell, fingerprinted: {hash: (first line, last line)} and how it was read."""
    source: str
    prints: dict = field(default_factory=dict)
    mode: str = "ast"      # "ast", "tokens" (did not parse: token fallback) or "skipped"
    note: str = ""


def _bound_names(tree) -> set[str]:
    """Names the cell itself binds (assignments, parameters, defs, imports, loop and with targets): the ones a
    student can rename without breaking the code."""
    import ast

    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _units(tree, n_lines: int) -> list[tuple[int, int]]:
    """Line ranges fingerprinted separately: each top-level def or class, and each run of other statements, so
    that reordering functions changes nothing."""
    units, run = [], None
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        last = node.end_lineno or node.lineno
        if node.__class__.__name__ in ("FunctionDef", "AsyncFunctionDef", "ClassDef"):
            if run:
                units.append(run)
                run = None
            units.append((first, last))
        else:
            run = (run[0], last) if run else (first, last)
    if run:
        units.append(run)
    return units or [(1, n_lines)]


def _tokens_parsed(source: str, bound: set[str]) -> list[tuple[str, int]]:
    """(normalised token, line) for a cell that parses. Dedents are left out (they sit on the next statement's
    line, which would tie a function to the one after it); indents and statement ends stay."""
    out, prev, prev_kind, skip_newline = [], "", tokenize.NEWLINE, False
    toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for i, tok in enumerate(toks):
        kind, text, line = tok.type, tok.string, tok.start[0]
        if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        if kind == tokenize.NEWLINE and skip_newline:
            skip_newline = False
            continue
        if kind == tokenize.STRING:
            nxt = next((toks[j] for j in range(i + 1, len(toks))
                        if toks[j].type not in (tokenize.COMMENT, tokenize.NL)), None)
            if prev_kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) and (
                    nxt is None or nxt.type in (tokenize.NEWLINE, tokenize.ENDMARKER)):
                skip_newline = True  # a docstring or bare string statement: it says nothing about the code
                continue
            norm = "S"
        elif kind == tokenize.NAME:
            if keyword.iskeyword(text) or prev == ".":
                norm = text
            elif text in bound:
                norm = "V"
            else:
                norm = text  # a global the cell uses (np, range, the course's functions): the same for everyone
        elif kind == tokenize.NEWLINE:
            norm = ";"
        elif kind == tokenize.INDENT:
            norm = "{"
        else:
            norm = text
        out.append((norm, line))
        prev, prev_kind = text, kind
    return out


def _tokens_fallback(source: str) -> list[tuple[str, int]]:
    """A cell that does not parse (syntax error, half-written code): a plain regex tokenizer, comments dropped,
    every name that is not a keyword, a builtin or an attribute becomes V."""
    out = []
    for line_no, line in enumerate(source.splitlines(), 1):
        prev = ""
        for text in FALLBACK_TOKEN.findall(line):
            if text.startswith("#"):
                break
            if text[0] in "\"'":
                norm = "S"
            elif text[0].isalpha() or text[0] == "_":
                norm = text if keyword.iskeyword(text) or text in BUILTIN_NAMES or prev == "." else "V"
            else:
                norm = text
            out.append((norm, line_no))
            prev = text
        if out and out[-1][0] != ";":
            out.append((";", line_no))
    return out


def _drop_grouping_parens(tokens: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Parentheses that only group (`return (a, b)`, `(x + y) * z`) say nothing a formatter could not change:
    dropped. Call and definition parentheses (after a name, `)`, `]` or a string) stay."""
    out, stack = [], []
    for tok in tokens:
        text = tok[0]
        if text == "(":
            prev = out[-1][0] if out else ";"
            call = prev in (")", "]", "S", "V") or (prev.isidentifier() and not keyword.iskeyword(prev))
            stack.append(call)
            if not call:
                continue
        elif text == ")" and stack and not stack.pop():
            continue
        out.append(tok)
    return out


@functools.lru_cache(maxsize=65536)
def _token_id(text: str) -> int:
    return zlib.crc32(text.encode())


def _winnow(tokens: list[tuple[str, int]], prints: dict) -> None:
    """Winnowing: the smallest hash of every window of WINDOW consecutive k-gram hashes (the rightmost on ties).
    A k-gram's hash is Python's hash of a tuple of CRC-32s: deterministic (ints are not salted)."""
    tokens = _drop_grouping_parens(tokens)
    if len(tokens) < K:
        return
    ids = [_token_id(t) for t, _ in tokens]
    hashes = [hash(tuple(ids[i:i + K])) for i in range(len(ids) - K + 1)]
    picked = set()
    for start in range(max(1, len(hashes) - WINDOW + 1)):
        window = hashes[start:start + WINDOW]
        low = min(window)
        pos = start + max(i for i, h in enumerate(window) if h == low)
        picked.add(pos)
    for pos in picked:
        h = hashes[pos]
        first, last = tokens[pos][1], tokens[pos + K - 1][1]
        old = prints.get(h)
        prints[h] = (first, last) if old is None else (min(old[0], first), max(old[1], last))


def fingerprint(source: str) -> Cell:
    """Fingerprints of one cell of code. Never executes it; a cell that does not parse falls back to tokens."""
    import ast

    cell = Cell(source=source)
    if len(source) > MAX_CELL_CHARS:
        cell.mode, cell.note = "skipped", f"cell of {len(source)} characters (over {MAX_CELL_CHARS}): not compared"
        return cell
    code = "\n".join("" if MAGIC.match(line) else line for line in source.splitlines())
    try:
        tree = ast.parse(code)
        tokens = _tokens_parsed(code, _bound_names(tree))
        lines = {}
        for norm, line in tokens:
            lines.setdefault(line, []).append((norm, line))
        for first, last in _units(tree, len(code.splitlines())):
            _winnow([t for ln in range(first, last + 1) for t in lines.get(ln, [])], cell.prints)
    except (SyntaxError, ValueError, RecursionError, MemoryError, tokenize.TokenError) as exc:
        cell.mode, cell.note = "tokens", f"does not parse ({type(exc).__name__}): compared as tokens"
        cell.prints = {}
        _winnow(_tokens_fallback(code), cell.prints)
    return cell


# ------------------------------------------------------------------ reading the instructor's and students' notebooks
FENCE = re.compile(r"```(?:python|py|ipython3?)?\s*\n(.*?)```", re.S)


def published_prints(release_nb: dict) -> set[int]:
    """Every fingerprint of the instructor's published code: all code cells of the release notebook (stubs,
    examples, public tests) and fenced code in its markdown."""
    prints = set()
    for cell in release_nb.get("cells", []):
        src = cell_source(cell)
        blocks = [src] if cell.get("cell_type") == "code" else FENCE.findall(src)
        for block in blocks:
            prints.update(fingerprint(block).prints)
    return prints


def solution_cells(release_nb: dict) -> list[str]:
    """grade_ids of the autograded exercise answers: nbgrader solution cells of type code."""
    return [c["metadata"]["nbgrader"]["grade_id"] for c in release_nb.get("cells", [])
            if c.get("cell_type") == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")]


@dataclass
class Student:
    name: str
    cells: dict = field(default_factory=dict)    # exercise -> Cell
    prints: dict = field(default_factory=dict)   # exercise -> set of fingerprints (published code removed)


def _iter_submissions(submitted) -> list[tuple[str, str, Path]]:
    if isinstance(submitted, (list, tuple)):
        return [(s, a, Path(p)) for s, a, p in submitted]
    found = []
    for student in sorted(p for p in Path(submitted).iterdir() if p.is_dir() and not p.is_symlink()):
        for assignment in sorted(p for p in student.iterdir() if p.is_dir() and not p.is_symlink()):
            for nb in sorted(assignment.glob("*.ipynb")):
                if not nb.is_symlink():
                    found.append((student.name, assignment.name, nb))
    return found


# ------------------------------------------------------------------ comparing a class
@dataclass
class Pair:
    a: str
    b: str
    similarity: float
    exercise: str = ""
    exercise_similarity: float = 0.0
    per_exercise: dict = field(default_factory=dict)


def _weights(students: list[Student]) -> dict:
    """Rarity weight of every fingerprint two or more students have: log((N+1)/df) / log((N+1)/2), so 1 for
    code only two students share; 0 for code that more than half of a class of 5 or more wrote. A fingerprint
    only one student has cannot be shared: it weighs 1 in the union (not in the dict)."""
    df: dict[int, int] = {}
    for s in students:
        for fp in set().union(*s.prints.values()) if s.prints else ():
            df[fp] = df.get(fp, 0) + 1
    n = len(students)
    top = math.log((n + 1) / 2)
    return {fp: (0.0 if n >= MIN_CLASS_FOR_COMMON and c > COMMON_FRACTION * n else math.log((n + 1) / c) / top)
            for fp, c in df.items() if c > 1}


def _shared(sets: list[set], index: dict, w) -> "np.ndarray":
    """S[a, b] = total weight of the fingerprints students a and b both have, as X diag(w) X^T over the
    fingerprints that carry weight, in column blocks (memory: students x CHUNK)."""
    import numpy as np

    rows = np.repeat(np.arange(len(sets)), [sum(fp in index for fp in st) for st in sets])
    cols = np.fromiter((index[fp] for st in sets for fp in st if fp in index), dtype=np.int64, count=len(rows))
    used = np.unique(cols)                      # only the columns these sets touch
    cols = np.searchsorted(used, cols)
    w = w[used]
    out = np.zeros((len(sets), len(sets)))
    for start in range(0, len(used), CHUNK):
        mask = (cols >= start) & (cols < start + CHUNK)
        x = np.zeros((len(sets), min(CHUNK, len(used) - start)))
        x[rows[mask], cols[mask] - start] = 1.0
        out += (x * w[start:start + CHUNK]) @ x.T
    return out


def compare(students: list[Student], exercises: list[str]) -> tuple[list[Pair], dict]:
    """Every pair of students: weighted Jaccard of their fingerprints over the whole assignment (code moved
    between cells still matches) and per exercise; a fingerprint only one student has weighs 1 in the union.
    similarity = shared weight / (union weight + SMOOTHING)."""
    import numpy as np

    weights = _weights(students)
    carrying = [fp for fp, w in weights.items() if w > 0]
    index = {fp: j for j, fp in enumerate(carrying)}
    w = np.array([weights[fp] for fp in carrying])

    def mass(prints):
        return sum(weights.get(fp, 1.0) for fp in prints)

    def scores(sets):
        m = np.array([mass(st) for st in sets])
        shared = _shared(sets, index, w)
        union = m[:, None] + m[None, :] - shared
        return shared, np.where(shared > 0, shared / (union + SMOOTHING), 0.0)

    n = len(students)
    a_idx, b_idx = np.triu_indices(n, 1)
    totals = [set().union(*s.prints.values()) if s.prints else set() for s in students]
    _, total_sim = scores(totals)
    per_shared, per_sim = [], []
    for e in exercises:
        shared, sim = scores([s.prints.get(e, set()) for s in students])
        per_shared.append(shared[a_idx, b_idx])
        per_sim.append(sim[a_idx, b_idx])
    per_shared = np.array(per_shared).reshape(len(exercises), -1)
    per_sim = np.round(np.array(per_sim).reshape(len(exercises), -1), 4)
    best = per_shared.argmax(axis=0) if exercises else np.zeros(len(a_idx), dtype=int)
    pairs = []
    for k, (i, j) in enumerate(zip(a_idx.tolist(), b_idx.tolist())):
        pair = Pair(students[i].name, students[j].name, round(float(total_sim[i, j]), 4))
        if exercises and per_shared[best[k], k] > 0:
            nz = np.nonzero(per_sim[:, k])[0]
            pair.per_exercise = {exercises[e]: float(per_sim[e, k]) for e in nz.tolist()}
            pair.exercise, pair.exercise_similarity = exercises[best[k]], float(per_sim[best[k], k])
        pairs.append(pair)
    pairs.sort(key=lambda p: (-p.similarity, p.a, p.b))
    return pairs, weights


def load_assignment(entries: list[tuple[str, Path]], release_nb: dict, notebook: str, messages: list[str],
                    multi: bool) -> tuple[list[Student], list[str]]:
    """Read each student's notebook defensively (grade.prepare: size limit, JSON, format, cells by grade_id) and
    fingerprint the solution cells, without the instructor's published code."""
    published = published_prints(release_nb)
    stubs = {c["metadata"]["nbgrader"]["grade_id"]: cell_source(c).strip() for c in release_nb["cells"]
             if c.get("cell_type") == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    gids = solution_cells(release_nb)
    label = (lambda g: f"{notebook}/{g}") if multi else (lambda g: g)
    students = []
    for name, path in entries:
        prepared = grade.prepare(path, release_nb)
        if prepared.fatal:
            messages.append(f"{name}: {notebook} not compared: {prepared.fatal}")
            continue
        student = Student(name)
        for gid in gids:
            src = prepared.student_cells.get(gid)
            if not isinstance(src, str) or src.strip() in ("", stubs.get(gid, "")):
                continue
            cell = fingerprint(src)
            if cell.note:
                messages.append(f"{name}: {label(gid)} {cell.note}")
            student.cells[label(gid)] = cell
            prints = set(cell.prints) - published
            if prints:
                student.prints[label(gid)] = prints
        students.append(student)
    return students, [label(g) for g in gids]


# ------------------------------------------------------------------ the report
def heat_order(names: list[str], pairs: list[Pair], threshold: float = GROUP_AT) -> list[str]:
    """Students in the order the heat map shows them: groups linked by pairs at or above threshold first (the
    group with the most similar pair first, by name inside a group), then everyone else by name."""
    parent = {n: n for n in names}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    best: dict[str, float] = {}
    for p in pairs:  # most similar first
        if p.similarity < threshold:
            break
        ra, rb = root(p.a), root(p.b)
        if ra != rb:
            parent[rb] = ra
            best[ra] = max(best.get(ra, 0.0), best.pop(rb, 0.0), p.similarity)
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(root(n), []).append(n)
    linked = sorted((g for r, g in groups.items() if len(g) > 1), key=lambda g: (-best[root(g[0])], sorted(g)))
    alone = sorted(n for g in groups.values() if len(g) == 1 for n in g)
    return [n for g in linked for n in sorted(g)] + alone


def heatmap_png(names: list[str], pairs: list[Pair], title: str) -> str:
    """The class as a matrix of pair similarities (heat_order), a PNG as a data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    index = {n: i for i, n in enumerate(names)}
    m = np.eye(len(names))
    for p in pairs:
        m[index[p.a], index[p.b]] = m[index[p.b], index[p.a]] = p.similarity
    size = min(12.0, 3.0 + 0.12 * len(names))
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    im = ax.imshow(m, vmin=0, vmax=1, cmap="magma_r", interpolation="nearest")
    if len(names) <= 60:
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel(f"student (groups with pairs at {GROUP_AT:.1f} or more first)")
    ax.set_ylabel("student (same order)")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="similarity (0: nothing shared, 1: same code)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _matched_lines(cell: Cell, shared: set[int]) -> set[int]:
    lines = set()
    for fp in shared:
        if fp in cell.prints:
            first, last = cell.prints[fp]
            lines.update(range(first, last + 1))
    return lines


def _side(cell: Cell, lines: set[int]) -> str:
    rows = []
    for no, text in enumerate(cell.source.splitlines()[:400], 1):
        cls = ' class="m"' if no in lines else ""
        rows.append(f"<span{cls}>{no:3d} {html.escape(text)}</span>")
    return "<pre>" + "\n".join(rows) + "</pre>"


def side_by_side(sa: Student, sb: Student, exercise: str, weights: dict) -> str:
    ca, cb = sa.cells.get(exercise), sb.cells.get(exercise)
    if ca is None or cb is None:
        return ""
    shared = {fp for fp in sa.prints.get(exercise, set()) & sb.prints.get(exercise, set()) if weights.get(fp, 0) > 0}
    return (f'<table class="sbs"><tr><th>{html.escape(sa.name)}</th><th>{html.escape(sb.name)}</th></tr>'
            f"<tr><td>{_side(ca, _matched_lines(ca, shared))}</td><td>{_side(cb, _matched_lines(cb, shared))}</td>"
            "</tr></table>")


STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:110em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2em .5em;vertical-align:top;text-align:left}pre{margin:0;font-size:12px}
.m{background:#ffd27a;display:inline-block;width:100%}.sbs td{width:50%}details{margin:.3em 0}
.note{color:#555;font-size:90%}"""


def write_report(out_dir: Path, results: dict, messages: list[str], top: int = 10) -> None:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Similarity report</title>"
             f"<style>{STYLE}</style></head><body><h1>Similarity report</h1>",
             "<p class='note'>Similarity from 0 to 1: the rarity-weighted share of winnowed fingerprints two students "
             "have in common in their solution cells, after removing the instructor's published code (starter "
             "stubs, examples, public tests) and ignoring comments, names, formatting and the order of functions. "
             "Code that more than half the class wrote weighs nothing. A high score is a reason to look, not a "
             "verdict: read the code side by side.</p>"]
    for assignment, (students, exercises, pairs, weights) in sorted(results.items()):
        by_name = {s.name: s for s in students}
        parts.append(f"<h2>{e(assignment)}: {len(students)} students, {len(pairs)} pairs</h2>")
        if len(students) >= 2:
            image = heatmap_png(heat_order(sorted(by_name), pairs), pairs, assignment)
            parts.append(f"<img alt='heat map of {e(assignment)}' src='{image}'>")
        parts.append("<h3>Most similar pairs, whole assignment</h3><table><tr><th>student a</th><th>student b</th>"
                     "<th>similarity</th><th>exercise that matched most</th></tr>")
        for p in pairs[:top * 2]:
            parts.append(f"<tr><td>{e(p.a)}</td><td>{e(p.b)}</td><td>{p.similarity:.2f}</td>"
                         f"<td>{e(p.exercise)} ({p.exercise_similarity:.2f})</td></tr>")
        parts.append("</table>")
        for ex in exercises:
            ranked = sorted((p for p in pairs if p.per_exercise.get(ex, 0) > 0),
                            key=lambda p: (-p.per_exercise[ex], p.a, p.b))[:top]
            parts.append(f"<h3>{e(assignment)} / {e(ex)}</h3>")
            if not ranked:
                parts.append("<p class='note'>no pair shares code here beyond the instructor's</p>")
                continue
            for p in ranked:
                parts.append(f"<details><summary>{e(p.a)} &amp; {e(p.b)}: {p.per_exercise[ex]:.2f} "
                             f"(whole assignment {p.similarity:.2f})</summary>"
                             f"{side_by_side(by_name[p.a], by_name[p.b], ex, weights)}</details>")
    if messages:
        parts.append("<h2>Not compared, or compared as tokens</h2><ul>")
        parts += [f"<li>{e(m)}</li>" for m in messages]
        parts.append("</ul>")
    parts.append("</body></html>")
    (out_dir / "similarity.html").write_text("\n".join(parts), encoding="utf-8")


def _no_formula(text: str) -> str:
    """A student id a spreadsheet would run as a formula (=, +, -, @) is written with a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_similarity(submitted, out_dir, release_dir=None, top: int = 10, names: dict | None = None) -> dict:
    """The report for a collected class. `submitted`: a folder `<student>/<assignment>/<notebook>.ipynb` (grade.py's
    `submitted/`) or a list of (student, assignment, notebook path). `release_dir`: the release notebooks
    (`<assignment>/<notebook>.ipynb`, default the course's `notebooks/`). `names`: {folder: student id shown},
    for ids that collecting had to store under another folder name. Writes similarity.csv and similarity.html
    in out_dir; returns {assignment: [Pair, ...]} (most similar first)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    release_dir = Path(release_dir) if release_dir else ROOT / "notebooks"
    grouped: dict[tuple[str, str], list] = {}
    messages: list[str] = []
    shown = getattr(grade, "printable", str)   # a folder name that is not UTF-8 becomes escaped text
    for student, assignment, path in _iter_submissions(submitted):
        student = (names or {}).get(student) or shown(student)
        grouped.setdefault((assignment, path.stem), []).append((student, path))
    results = {}
    for assignment in sorted({a for a, _ in grouped}):
        notebooks = sorted(nb for a, nb in grouped if a == assignment)
        students_by_name: dict[str, Student] = {}
        exercises: list[str] = []
        for nb in notebooks:
            release_path = release_dir / assignment / f"{nb}.ipynb"
            if not release_path.is_file():
                messages.append(f"{assignment}/{nb}.ipynb: not a notebook of the course: not compared")
                continue
            release_nb = json.loads(release_path.read_text())
            multi = len(list((release_dir / assignment).glob("*.ipynb"))) > 1
            loaded, ex = load_assignment(grouped[(assignment, nb)], release_nb, nb, messages, multi)
            exercises += ex
            for s in loaded:
                merged = students_by_name.setdefault(s.name, Student(s.name))
                merged.cells.update(s.cells)
                merged.prints.update(s.prints)
        students = sorted(students_by_name.values(), key=lambda s: s.name)
        if not students:
            continue
        results[assignment] = (students, exercises, *compare(students, exercises))
    with open(out_dir / "similarity.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["assignment", "student_a", "student_b", "similarity", "exercise", "exercise_similarity"])
        for assignment, (_, _, pairs, _) in sorted(results.items()):
            for p in pairs:
                writer.writerow([assignment, _no_formula(p.a), _no_formula(p.b), f"{p.similarity:.4f}", p.exercise,
                                 f"{p.exercise_similarity:.4f}"])
    write_report(out_dir, results, messages, top)
    for m in messages:
        print("similarity:", m)
    return {a: r[2] for a, r in results.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", help="nbgrader's submitted/<student>/<assignment>/ layout, or a zip")
    parser.add_argument("--out", default=None, help="output folder (default autograder/work/similarity-<time>/)")
    parser.add_argument("--release", default=str(ROOT / "notebooks"), help="release (student) notebooks")
    parser.add_argument("--source", default=str(ROOT / "solutions"), help="instructor notebooks (assignment names)")
    parser.add_argument("--top", type=int, default=10, help="pairs shown per exercise in the HTML")
    args = parser.parse_args(argv)
    out = Path(args.out or HERE / "work" / time.strftime("similarity-%Y%m%d-%H%M%S")).resolve()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="similarity-") as tmp:
        submitted = Path(tmp) / "submitted"
        submitted.mkdir()
        found = grade.collect(Path(args.submissions).resolve(), submitted, grade.course_layout(Path(args.source)),
                              grade.load_config())
        for note in getattr(found, "notes", found):
            print("note:", note)
        names = {folder: grade.printable(original) for folder, original in getattr(found, "folders", {}).items()}
        results = write_similarity(submitted, out, args.release, args.top, names)
    for assignment, pairs in results.items():
        best = ", ".join(f"{p.a}/{p.b} {p.similarity:.2f}" for p in pairs[:3])
        print(f"{assignment}: {len(pairs)} pairs; most similar: {best}")
    print(f"similarity: {out / 'similarity.html'}\n            {out / 'similarity.csv'}"
          f"\n({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
