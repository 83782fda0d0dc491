"""`make release`: the student bundle, a zip of what a student needs and nothing an instructor keeps.

    python autograder/release.py [--out dist/tf-course-student.zip] [--exchange /srv/nbgrader/exchange]

The student notebooks in it are generated afresh from solutions/ by nbgrader (autograder/notebooks.py), never
read from notebooks/: JupyterLab autosaves into notebooks/ whenever someone tries an exercise there, so a
release built from that folder would ship answers and outputs. A notebooks/ that differs from the generated
one is reported (not shipped).

In the zip, under tf-course/, every file with mode 0644:
- notebooks/NN_topic/NN_topic.ipynb, generated, without outputs;
- home.ipynb, the course home (`make lab` opens it): the notebooks with their estimated time, points and what
  each builds on, read from the notebooks' headers and nbgrader metadata; where to get help; how to submit;
- the `course` package, pyproject.toml, datasets/manifest.json and the checksum lists;
- the student's set-up: Makefile (autograder/student_Makefile: help, setup, lab, check, clean),
  requirements.txt (requirements-student.txt: no pytest, nbval, playwright), requirements-cpu/gpu.txt,
  requirements.lock, environment.yml (without the test tools), .gitignore;
- nbgrader_config.py (autograder/student_nbgrader_config.py: Validate's timeout and messages, the exchange);
- jupyter-config/ (the Makefile points JUPYTER_CONFIG_PATH there): nbgrader's student tools only (no
  Formgrader, no Create Assignment; the Assignment List only with --exchange), idle kernels shut down;
- progress.py (autograder/student_progress.py: `make check`), README.md (autograder/student_README.md).
Never solutions/, autograder/, tests/, bench/ or CI files; tests/test_autograder_release.py checks it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import notebooks as pipeline  # noqa: E402

TOP = "tf-course"
# (name in the zip, file in the repository), copied as they are
COPIED = [("requirements-cpu.txt", "requirements-cpu.txt"), ("requirements-gpu.txt", "requirements-gpu.txt"),
          ("requirements.lock", "requirements.lock"), ("pyproject.toml", "pyproject.toml"),
          (".gitignore", ".gitignore"), ("Makefile", "autograder/student_Makefile"),
          ("requirements.txt", "requirements-student.txt"), ("progress.py", "autograder/student_progress.py"),
          ("README.md", "autograder/student_README.md")]
NEVER = ("solutions", "autograder", "tests", "bench", ".ci", ".git", ".venv")
MODE = 0o644
DATE = (2026, 1, 1, 0, 0, 0)  # every entry's timestamp: the same sources give the same zip
# Idle kernels: closing a notebook's tab shuts its kernel down (student Makefile, JupyterLab's kernelShutdown);
# a kernel with no tab open that has been idle this long is shut down by the server. A notebook left open
# keeps its kernel (its variables) however long the student pauses.
CULL_IDLE_S = 1800
# nbgrader's JupyterLab plugins and server extensions that are the instructor's, and those that need an exchange
INSTRUCTOR_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"]
EXCHANGE_PLUGINS = ["@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:menu"]
INSTRUCTOR_SERVER = ["nbgrader.server_extensions.formgrader"]
CUSTOM_CSS_FOLDER = "jupyter-config/custom"
CUSTOM_CSS = HERE / "student_custom" / "custom.css"
LAB_CONFIG = "autograder/work/lab-config"  # the repository's `make lab` (git-ignored)
KERNEL_SHUTDOWN = {"@jupyterlab/notebook-extension:tracker": {"kernelShutdown": True}}
EXCHANGE_SERVER = ["nbgrader.server_extensions.assignment_list", "nbgrader.server_extensions.course_list"]


def _tracked(root: Path) -> set[str] | None:
    """Files git tracks (a release holds what the repository holds, not work in progress); None outside git."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return set(out.decode().split("\0")) - {""}


def repository_files(root: Path = ROOT) -> dict[str, Path]:
    """{name in the zip: file on disk} for the files shipped as they are (tracked by git where there is git)."""
    tracked = _tracked(root)
    files = {name: root / source for name, source in COPIED}
    for folder, pattern in (("course", "**/*.py"), ("datasets", "manifest.json"), ("datasets", "*.sha256")):
        for path in (root / folder).glob(pattern):
            rel = path.relative_to(root)
            if any(part.startswith(".") or part in ("__pycache__", "cache") for part in rel.parts):
                continue
            if tracked is None or str(rel) in tracked:
                files[str(rel)] = path
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"release: missing {', '.join(missing)}")
    return files


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^\s*-?\s*([A-Za-z0-9_.\[\]-]+)==(\S+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def instructor_only_packages(root: Path = ROOT) -> set[str]:
    """The pinned packages of requirements.txt that the student's set leaves out (test and CI tools)."""
    course = _pins((root / "requirements.txt").read_text(encoding="utf-8"))
    student = _pins((root / "requirements-student.txt").read_text(encoding="utf-8"))
    return set(course) - set(student)


def student_environment_yml(root: Path = ROOT) -> str:
    """environment.yml without the instructor's tools."""
    drop = instructor_only_packages(root)
    lines = []
    for line in (root / "environment.yml").read_text(encoding="utf-8").splitlines():
        pins = _pins(line) if line.strip().startswith("- ") else {}
        if not (pins and set(pins) <= drop):
            lines.append(line.replace("the same pins as requirements.txt", "the pins of requirements.txt"))
    return "\n".join(lines) + "\n"


def student_nbgrader_config(exchange: str) -> str:
    text = (HERE / "student_nbgrader_config.py").read_text(encoding="utf-8")
    assert '\nEXCHANGE = ""\n' in text
    return text.replace('\nEXCHANGE = ""\n', f"\nEXCHANGE = {exchange!r}\n")


def _server_config(disabled: list[str], custom_css_folder: str) -> str:
    """jupyter_server_config.json: nbgrader's server extensions left out, culling of idle kernels, custom.css.

    custom.css (Validate's dialog says that only the public checks ran): LabApp serves it from the tornado
    setting static_custom_path (ServerApp has no option for it); a relative folder is relative to the folder
    JupyterLab starts in, as nbgrader_config.py is."""
    server = {"ServerApp": {"jpserver_extensions": {name: False for name in disabled},
                            "tornado_settings": {"static_custom_path": [custom_css_folder]}},
              "LabApp": {"custom_css": True},
              "MappingKernelManager": {"cull_idle_timeout": CULL_IDLE_S, "cull_interval": 300,
                                       "cull_connected": False, "cull_busy": False}}
    return json.dumps(server, indent=1) + "\n"


def jupyter_config(exchange: str) -> dict[str, str]:
    """jupyter-config/: which of nbgrader's tools a student sees, the culling of idle kernels, custom.css."""
    plugins = INSTRUCTOR_PLUGINS + ([] if exchange else EXCHANGE_PLUGINS)
    servers = INSTRUCTOR_SERVER + ([] if exchange else EXCHANGE_SERVER)
    page = {"disabledExtensions": {name: True for name in plugins}}
    return {"jupyter-config/jupyter_server_config.json": _server_config(servers, CUSTOM_CSS_FOLDER),
            "jupyter-config/labconfig/page_config.json": json.dumps(page, indent=1) + "\n",
            f"{CUSTOM_CSS_FOLDER}/custom.css": CUSTOM_CSS.read_text(encoding="utf-8")}


def repository_lab(root: Path = ROOT, settings: Path | None = None) -> Path:
    """`make lab` in the repository: the course home (home.ipynb at the root, git-ignored, written afresh from
    notebooks/ each time), and LAB_CONFIG (JUPYTER_CONFIG_PATH) with the bundle's culling of idle kernels and
    custom.css but every nbgrader tool; closing a notebook's tab shuts its kernel down (a JupyterLab setting,
    in the environment's overrides.d, as the bundle's Makefile sets it). Returns the home's path."""
    home = root / "home.ipynb"
    home.write_text(pipeline.dumps(home_notebook(
        root / "notebooks", "", progress="autograder/student_progress.py --notebooks notebooks",
        check=".venv/bin/python autograder/student_progress.py --notebooks notebooks",
        check_some=".venv/bin/python autograder/student_progress.py --notebooks notebooks 03 04")), encoding="utf-8")
    config = root / LAB_CONFIG
    config.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(_server_config([], str(CUSTOM_CSS.parent)), encoding="utf-8")
    settings = settings or Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "tf-course.json").write_text(json.dumps(KERNEL_SHUTDOWN, indent=1) + "\n", encoding="utf-8")
    return home


def header(nb: dict) -> dict:
    """Title, estimated time, what it builds on and points of a notebook, from its header cell and metadata."""
    first = nb["cells"][0]["source"]

    def field(label):
        """The text after **label:**, up to the next **Label:**, the paragraph's end or the cell's, on one line."""
        match = re.search(rf"\*\*{label}:\*\*(.+?)(?=\*\*[A-Z][^*\n]*:\*\*|\n\s*\n|\Z)", first, re.S)
        if not match:
            raise SystemExit(f"release: a notebook header lacks **{label}:** (see lint_notebooks.py)")
        # links between notebooks are relative to a notebook's folder; the home is one level above notebooks/
        return " ".join(match.group(1).split()).replace("|", "\\|").replace("](../", "](notebooks/")

    title = re.match(r"#\s+\d\d\s+·\s+(.+)", first)
    points = sum(c.get("metadata", {}).get("nbgrader", {}).get("points", 0) for c in nb["cells"]
                 if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
    return {"title": title.group(1).strip() if title else "?", "time": field("Estimated time"),
            "builds_on": field("Builds on"), "points": points}


def _cell(kind: str, source: str, number: int) -> dict:
    cell = {"cell_type": kind, "id": f"home-{number}", "metadata": {}, "source": source.strip() + "\n"}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def home_notebook(notebooks: Path, exchange: str, progress: str = "progress.py", check: str = "make check",
                  check_some: str = 'make check NB="03 04"') -> dict:
    """The course home, from the student notebooks: `progress` is the progress command's script and arguments
    (the bundle's progress.py; the repository's autograder/student_progress.py), `check` the terminal command
    and `check_some` the same for two notebooks."""
    rows, total = [], 0
    for path in sorted(notebooks.glob("*/*.ipynb")):
        info = header(json.loads(path.read_text(encoding="utf-8")))
        total += info["points"]
        link = f"[{path.parent.name[:2]} · {info['title']}](notebooks/{path.parent.name}/{path.name})"
        rows.append(f"| {link} | {info['time']} | {info['points']} | {info['builds_on']} |")
    submit = (f"**Submitting:** in the Nbgrader menu, *Assignment List* fetches each notebook and submits it "
              f"(your instructor's exchange: `{exchange}`)." if exchange else
              "**Submitting:** upload the notebook file itself (`notebooks/NN_topic/NN_topic.ipynb`, keep its "
              "name) to your course's learning platform, as your instructor says.")
    intro = f"""
# Training neural networks with TensorFlow: course home

{len(rows)} notebooks, {total} points. Work through them in order; each one's first cell (the set-up cell) must
run first. Open one by clicking its name.

| notebook | estimated time | points | builds on |
|---|---|---|---|
""" + "\n".join(rows)
    how = f"""
## Exercises, checks and grading

- Write your code in each exercise cell in place of `raise NotImplementedError()`, then run the check cell
  after it. Keep the cells and the notebook's name: the grader finds your code by them.
- The check cells (and nbgrader's **Validate** button in a notebook's toolbar, which runs the whole notebook
  in a new kernel and then them) are only the **public checks**. Validate's "Success! Your notebook passes all
  the tests." means the public checks pass (the dialog says so below it). The grader also runs **hidden tests**
  (other inputs, shapes and edge cases) on what you submit: make each function right for every input its
  description allows.
- The cell below lists, from your own notebooks, which exercises pass their public checks (`{check}` in a
  terminal does the same). It runs each notebook you have started, a copy of it: the later notebooks take
  minutes. To check fewer: `{check_some}`.

{submit}
"""
    kernels = f"""
## Memory: one Python process per open notebook

Each open notebook has its own kernel (about 700 MB once TensorFlow is loaded). Closing a notebook's tab
shuts its kernel down, and a kernel left without a tab is shut down after {CULL_IDLE_S // 60} idle minutes.
A notebook you keep open keeps its kernel: when you have finished one, close it (or *Kernel > Shut Down
Kernel*); the *Running Terminals and Kernels* panel in the left sidebar lists them all and shuts them down.
"""
    command = "import sys\n\n!{sys.executable} " + progress
    cells = [_cell(kind, source, n) for n, (kind, source) in
             enumerate([("markdown", intro), ("markdown", how), ("code", command), ("markdown", kernels)])]
    return pipeline.normalize({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def generated_notebooks(folder: Path) -> dict[str, Path]:
    """Generate every student notebook from solutions/ into folder: {name in the zip: file}."""
    pipeline.generate(folder, pipeline.assignments())
    return {f"notebooks/{p.relative_to(folder)}": p for p in sorted(folder.glob("*/*.ipynb"))}


def stale_notebooks(generated: Path, root: Path = ROOT) -> list[str]:
    """How the working tree's notebooks/ differs from what was generated (reported, never shipped)."""
    notebooks = root / "notebooks"
    return pipeline.differences(generated, notebooks) if notebooks.is_dir() else ["notebooks/ is missing"]


def _write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(f"{TOP}/{name}", date_time=DATE)
    info.external_attr = (0o100000 | MODE) << 16  # a regular file, rw-r--r--
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build(out: Path, root: Path = ROOT, exchange: str = "") -> list[str]:
    """Write the bundle to out; the names in it (under tf-course/). Notebooks come from solutions/."""
    with tempfile.TemporaryDirectory(prefix="tf-course-release-") as tmp:
        generated = Path(tmp) / "notebooks"
        generated.mkdir()
        notebooks = generated_notebooks(generated)
        for problem in stale_notebooks(generated, root):
            print(f"release: not shipped, notebooks/ differs from solutions/: {problem}", file=sys.stderr)
        content = {name: path.read_bytes() for name, path in {**repository_files(root), **notebooks}.items()}
        content["home.ipynb"] = pipeline.dumps(home_notebook(generated, exchange)).encode()
    content["environment.yml"] = student_environment_yml(root).encode()
    content["nbgrader_config.py"] = student_nbgrader_config(exchange).encode()
    content.update({name: text.encode() for name, text in jupyter_config(exchange).items()})
    for name in content:
        assert name.split("/")[0] not in NEVER, name
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as zf:
        for name in sorted(content):
            _write(zf, name, content[name])
    return sorted(content)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="build the student bundle")
    parser.add_argument("--out", default=str(ROOT / "dist" / "tf-course-student.zip"))
    parser.add_argument("--exchange", default="", help="nbgrader's exchange folder, where the instructor runs one "
                        "(a shared server); without it students submit files to the learning platform")
    parser.add_argument("--repository-lab", action="store_true", help="write the course home and JupyterLab "
                        "settings of `make lab` in the repository, then stop")
    args = parser.parse_args(argv)
    if args.repository_lab:
        print(f"course home: {repository_lab().relative_to(ROOT)}")
        return 0
    names = build(Path(args.out), exchange=args.exchange)
    notebooks = sum(n.startswith("notebooks/") for n in names)
    print(f"wrote {args.out}: {len(names)} files, {notebooks} notebooks and the course home")
    return 0


if __name__ == "__main__":
    sys.exit(main())
