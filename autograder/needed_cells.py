"""Which of the instructor's cells the trusted process must run: the test cells, and every cell that a test cell
depends on, directly or through other cells (a backward slice over the names cells read and write).

The trusted process runs the instructor's ordinary and solution cells only to compute the fixtures that test
cells read; a cell that trains a network for a plot, prints a summary or draws a figure computes nothing a test
reads, and skipping it is most of the judge's time on the course's notebooks. Nothing after the last test cell
runs. Before it, the analysis errs on the side of running a cell: a cell is skipped only when every statement in
it is understood and none of them can change anything a later needed cell reads. A cell is run when it
- binds or may change a name a needed cell reads (assignment, `del`, augmented or subscript assignment, a method
  called on the name, the name passed to any call: the callee may mutate it);
- imports anything, defines a function or a class, or uses `global`;
- calls a function by bare name outside a known display helper (it may change global state: a seed, a file);
- calls a method of an imported module other than a plotting or display module (np.random.seed,
  tf.random.set_seed, keras.utils.set_random_seed, tf.config...);
- holds a magic or a shell line other than timing magics, or does not parse.
"""

from __future__ import annotations

import ast
import re

# Calls that only show something: skipping them changes no state a later cell reads.
DISPLAY_FUNCTIONS = frozenset({"print", "display", "len", "repr", "str", "format", "round", "sorted", "type",
                               "isinstance", "range", "enumerate", "zip", "min", "max", "sum", "abs", "float",
                               "int", "list", "tuple", "dict", "set", "bool", "any", "all", "Markdown", "HTML"})
DISPLAY_MODULES = frozenset({"plt", "matplotlib", "sns", "seaborn", "IPython"})
_TIMING_MAGIC = re.compile(r"^\s*%%?(time|timeit|capture|matplotlib)\b")


class _Cell(ast.NodeVisitor):
    """The names a cell reads, the names it binds or may change, and whether it must run whatever the tests read."""

    def __init__(self, imported: set[str], shown: set[str]):
        self.reads: set[str] = set()
        self.writes: set[str] = set()
        self.always = False
        self.imported = imported
        self.shown = shown  # figures and axes: names bound to what a plotting call returned (fig, ax)

    # -- binding
    def _target(self, node):
        if isinstance(node, ast.Name):
            self.writes.add(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self._target(elt)
        elif isinstance(node, ast.Starred):
            self._target(node.value)
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            base = node
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                self.writes.add(base.id)  # x.a = ..., x[i] = ...: x changes
                if base.id in self.imported:
                    self.always = True   # np.random.state = ..., module attributes
            self.visit(node)
        else:
            self.visit(node)

    def visit_Assign(self, node):
        self.visit(node.value)
        if isinstance(node.value, ast.Call) and _root(node.value.func) in DISPLAY_MODULES | self.shown:
            for t in node.targets:  # fig, ax = plt.subplots(): drawing on them changes nothing a test reads
                self.shown.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        for t in node.targets:
            self._target(t)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)
        self._target(node.target)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        self._target(node.target)
        if isinstance(node.target, ast.Name):
            self.reads.add(node.target.id)

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self._target(node.target)

    def visit_For(self, node):
        self.visit(node.iter)
        self._target(node.target)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_With(self, node):
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._target(item.optional_vars)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    def visit_Delete(self, node):
        for t in node.targets:
            self._target(t)

    def visit_comprehension(self, node):
        self.visit(node.iter)
        for cond in node.ifs:
            self.visit(cond)
        # the loop variable is local to the comprehension: not a binding of the cell

    def _always(self, node):
        self.always = True
        self.generic_visit(node)  # what a function reads when it is called later is read by this cell

    visit_Import = visit_ImportFrom = visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _always
    visit_Global = visit_Nonlocal = visit_Lambda = _always

    # -- reading, and calls that may change things
    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self.reads.add(node.id)
        elif isinstance(node.ctx, (ast.Store, ast.Del)):
            self.writes.add(node.id)

    def visit_Call(self, node):
        func = node.func
        root = _root(func)
        if root in DISPLAY_MODULES | self.shown or (isinstance(func, ast.Name) and func.id in DISPLAY_FUNCTIONS):
            self.generic_visit(node)  # only shows something: plt.plot(x), ax.imshow(x), print(x)
            return
        if isinstance(func, ast.Name):
            if func.id not in DISPLAY_FUNCTIONS:
                self.always = True  # a bare function: may seed, write a file, change a global
        elif isinstance(func, ast.Attribute):
            base = func
            while isinstance(base, (ast.Attribute, ast.Subscript, ast.Call)):
                base = base.value if not isinstance(base, ast.Call) else base.func
            if isinstance(base, ast.Name):
                if base.id in self.imported:
                    if base.id not in DISPLAY_MODULES:
                        self.always = True  # np.random.seed(...), tf.config..., os.remove(...)
                else:
                    self.writes.add(base.id)  # model.fit(...), x.sort(), ax.plot(...): the receiver may change
            else:
                self.always = True
        else:
            self.always = True
        for arg in list(node.args) + [k.value for k in node.keywords]:
            inner = arg.value if isinstance(arg, ast.Starred) else arg
            if isinstance(inner, ast.Name):
                self.writes.add(inner.id)  # the callee may mutate what it is given
        self.generic_visit(node)


def _root(func) -> str | None:
    """The name a call's function hangs from: `np` for np.random.seed, `ax` for ax.plot, `f` for f."""
    while isinstance(func, (ast.Attribute, ast.Subscript, ast.Call)):
        func = func.value if not isinstance(func, ast.Call) else func.func
    return func.id if isinstance(func, ast.Name) else None


def _imported_names(cells: list[str]) -> set[str]:
    names = set()
    for source in cells:
        try:
            tree = ast.parse(_code_of(source) or "")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names |= {a.asname or a.name for a in node.names}
    return names


def _code_of(source: str) -> str | None:
    """The cell's Python with timing magics removed; None when it holds another magic or a shell line."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            if not _TIMING_MAGIC.match(line):
                return None
            magic = stripped.split(None, 1)
            # `%time expr` runs expr; `%%time` as a cell's first line runs the rest
            lines.append(line[: len(line) - len(stripped)] + (magic[1] if len(magic) > 1 and
                                                                 not stripped.startswith("%%") else ""))
        else:
            lines.append(line)
    return "\n".join(lines)


def analyse(source: str, imported: set[str], shown: set[str] | None = None) -> _Cell:
    cell = _Cell(imported, set() if shown is None else shown)
    code = _code_of(source)
    if code is None:
        cell.always = True
        return cell
    try:
        tree = ast.parse(code)
    except SyntaxError:
        cell.always = True
        return cell
    for stmt in tree.body:
        cell.visit(stmt)
    return cell


def _rebound(source: str, shown: set[str]) -> set[str]:
    """Names of `shown` that a cell binds to something other than a plotting call's result (then they are data)."""
    code = _code_of(source)
    try:
        tree = ast.parse(code or "")
    except SyntaxError:
        return set()
    rebound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and not (isinstance(node.value, ast.Call)
                                                 and _root(node.value.func) in DISPLAY_MODULES | shown):
            rebound |= {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)} & shown
    return rebound


def is_test_cell(cell: dict) -> bool:
    """An autograded test cell, as nbgrader counts them: a code cell marked `grade` and not `solution`."""
    nbgrader = (cell.get("metadata") or {}).get("nbgrader") or {}
    return cell.get("cell_type") == "code" and bool(nbgrader.get("grade")) and not nbgrader.get("solution")


def needed_cells(cells: list[tuple[str, str]]) -> list[bool]:
    """cells: (kind, source) in notebook order, kind "test" for a test cell, anything else for a cell the trusted
    process may skip. Returns, per cell, whether it must run."""
    imported = _imported_names([source for _kind, source in cells])
    shown: set[str] = set()
    for _kind, source in cells:  # figures and axes, wherever they are made
        analyse(source, imported, shown)
    shown -= {n for _kind, source in cells for n in _rebound(source, shown)}
    needed = [False] * len(cells)
    wanted: set[str] = set()
    test_later = False  # a side effect matters only to a test that comes after it
    for i in range(len(cells) - 1, -1, -1):
        kind, source = cells[i]
        info = analyse(source, imported, set(shown))
        if kind == "test" or (info.always and test_later) or info.writes & wanted:
            test_later = test_later or kind == "test"
            needed[i] = True
            wanted |= info.reads
    return needed
