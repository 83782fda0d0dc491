"""Run notebook cells in-process with IPython (magics included) and collect nbformat outputs.

Used on both sides of the grader: the trusted process that runs the instructor's cells and the sandboxed
student process. No Jupyter kernel, no ZeroMQ: a process starts in well under a second. Copied into the
sandbox; imports nothing from the course.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import io
import linecache
import re
import sys
import traceback


class CappedText(io.TextIOBase):
    """A text stream keeping the first `limit` characters and counting the rest."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def value(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output cut by the grader]\n"
        return text


def _plain(data: dict, keep=("text/plain", "image/png", "text/html")) -> dict:
    return {k: v for k, v in data.items() if k in keep and isinstance(v, str)}


_NEEDS_IPYTHON = re.compile(r"^\s*[%!]|^[^#\n]*\?\s*$|\bawait\b", re.M)


class CellShell:
    """Cells run with plain exec() while they need nothing of IPython (no import of it: ~0.6 s saved per
    process); a cell with a magic, a shell escape, `?` or top-level await, or a call to get_ipython(), switches
    to an IPython InteractiveShell over the same namespace for the rest of the notebook."""

    def __init__(self, output_limit: int = 20_000, figures: bool = False):
        self.output_limit = output_limit
        self.figures = figures  # show the figures a cell leaves open (as Jupyter's inline backend does)
        self.outputs: list[dict] = []
        self.shell = None
        self.count = 0
        self.error: BaseException | None = None  # the exception of the last cell run, if any
        self.user_ns: dict = {"__name__": "__main__", "__builtins__": builtins, "display": self._display,
                              "get_ipython": self._ipython}

    # ---------------------------------------------------------------- IPython, when a cell needs it
    def _ipython(self):
        if self.shell is not None:
            return self.shell
        from IPython.core.interactiveshell import InteractiveShell

        self.shell = shell = InteractiveShell.instance(user_ns=self.user_ns)
        for setter in (lambda: setattr(shell, "colors", "nocolor"),
                       lambda: shell.InteractiveTB.set_colors("NoColor")):
            with contextlib.suppress(Exception):
                setter()
        shell.displayhook.write_output_prompt = lambda: None

        def write_format_data(format_dict, md_dict=None):
            self.outputs.append({"output_type": "execute_result", "execution_count": None,
                                 "data": _plain(format_dict), "metadata": {}})

        shell.displayhook.write_format_data = write_format_data

        def showtraceback(etype, evalue, stb):
            self.outputs.append({"output_type": "error", "ename": getattr(etype, "__name__", str(etype)),
                                 "evalue": str(evalue)[:2000], "traceback": [str(s)[:4000] for s in stb[-30:]]})

        shell._showtraceback = showtraceback

        def publish(data, metadata=None, **kwargs):
            self.outputs.append({"output_type": "display_data", "data": _plain(data), "metadata": {}})

        shell.display_pub.publish = publish
        return shell

    def _display(self, *objs, **kwargs):
        if self.shell is not None:
            from IPython.display import display

            return display(*objs, **kwargs)
        for obj in objs:
            self.outputs.append({"output_type": "display_data", "data": {"text/plain": _repr(obj)}, "metadata": {}})

    # ---------------------------------------------------------------- running a cell
    def run(self, code: str) -> tuple[list[dict], bool]:
        """Run one cell; its outputs (streams first) and whether it ran without an error."""
        self.outputs, self.error = [], None
        self.count += 1
        out, err = CappedText(self.output_limit), CappedText(self.output_limit)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if self.shell is None and not _NEEDS_IPYTHON.search(code):
                ok = self._run_plain(code)
            else:
                result = self._ipython().run_cell(code, store_history=False)
                ok = result.error_in_exec is None and result.error_before_exec is None
                self.error = exc = result.error_in_exec or result.error_before_exec
                if not ok and not any(o["output_type"] == "error" for o in self.outputs):
                    self.outputs.append({"output_type": "error", "ename": type(exc).__name__,
                                         "evalue": str(exc)[:2000], "traceback": []})
            if self.figures:
                self._flush_figures()
        streams = [{"output_type": "stream", "name": name, "text": s.value()}
                   for name, s in (("stdout", out), ("stderr", err)) if s.value()]
        return streams + self.outputs, ok

    def _flush_figures(self, most: int = 10, dpi: int = 72) -> None:
        """The matplotlib figures the cell left open as image/png display data (at most `most`, small), then
        closed, as the inline backend does at the end of a Jupyter cell."""
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        try:
            for num in plt.get_fignums()[:most]:
                figure, buf = plt.figure(num), io.BytesIO()
                figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
                self.outputs.append({"output_type": "display_data", "metadata": {}, "data": {
                    "image/png": base64.b64encode(buf.getvalue()).decode(), "text/plain": f"<Figure {num}>"}})
            plt.close("all")
        except Exception as exc:  # noqa: BLE001 (a figure that cannot be drawn is a note, not a crash)
            print(f"[grader] a figure could not be drawn: {type(exc).__name__}", file=sys.stderr)

    def _run_plain(self, code: str) -> bool:
        name = f"<cell {self.count}>"  # one name per cell: a traceback's frames tell which cell they are in
        linecache.cache[name] = (len(code), None, code.splitlines(keepends=True), name)  # for inspect, ast
        try:
            tree = ast.parse(code, name)
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr) and not code.rstrip().endswith(";"):
                last = ast.Expression(tree.body.pop().value)
            exec(compile(tree, name, "exec"), self.user_ns)
            if last is not None:
                value = eval(compile(last, name, "eval"), self.user_ns)
                if value is not None:
                    self.user_ns["_"] = value
                    self.outputs.append({"output_type": "execute_result", "execution_count": None,
                                         "data": {"text/plain": _repr(value)}, "metadata": {}})
            return True
        except SystemExit as exc:  # like IPython: reported, the notebook goes on
            self.error = exc
            self.outputs.append({"output_type": "error", "ename": "SystemExit", "evalue": str(exc.code),
                                 "traceback": ["SystemExit: the cell called sys.exit()"]})
            return False
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
                tb = tb.tb_next
            lines = traceback.format_exception(type(exc), exc, tb)
            self.outputs.append({"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc)[:2000],
                                 "traceback": [line[:4000] for line in lines[-30:]]})
            return False


def _repr(obj) -> str:
    try:
        return repr(obj)[:100_000]
    except Exception as exc:  # noqa: BLE001
        return f"<repr failed: {type(exc).__name__}>"
