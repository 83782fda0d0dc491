"""Run notebook cells in-process with IPython (magics included) and collect nbformat outputs.

Used on both sides of the grader: the trusted process that runs the instructor's cells and the sandboxed
student process. No Jupyter kernel, no ZeroMQ: a process starts in well under a second. Copied into the
sandbox; imports nothing from the course.
"""

from __future__ import annotations

import contextlib
import io


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


class CellShell:
    def __init__(self, output_limit: int = 20_000):
        from IPython.core.interactiveshell import InteractiveShell

        self.output_limit = output_limit
        self.shell = shell = InteractiveShell.instance()
        self.outputs: list[dict] = []
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

    @property
    def user_ns(self) -> dict:
        return self.shell.user_ns

    def run(self, code: str) -> tuple[list[dict], bool]:
        """Run one cell; its outputs (streams first) and whether it raised."""
        self.outputs = []
        out, err = CappedText(self.output_limit), CappedText(self.output_limit)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = self.shell.run_cell(code, store_history=False)
        streams = [{"output_type": "stream", "name": name, "text": s.value()}
                   for name, s in (("stdout", out), ("stderr", err)) if s.value()]
        failed = result.error_in_exec is not None or result.error_before_exec is not None
        if failed and not any(o["output_type"] == "error" for o in self.outputs):
            exc = result.error_in_exec or result.error_before_exec
            self.outputs.append({"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc)[:2000],
                                 "traceback": []})
        return streams + self.outputs, not failed
