"""`make release` (autograder/release.py): the student bundle holds what students need, no secret, and works.

A secret line is a line of a solution notebook between `### BEGIN SOLUTION` / `### END SOLUTION` or
`### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`. None may appear in any file under notebooks/ nor in any file
of the bundle (longer than 12 characters in notebooks, 30 in other files, and not also a public line of some
notebook or a bare import, which are not secrets).

The bundle is built once, from a copy of the course whose notebooks/ an instructor has "tried" in JupyterLab
(a solution line typed in and outputs saved): none of it may reach the zip. Then the zip is unpacked in a fresh
folder and its Makefile, README, configuration and tools are checked there, without installing anything.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import release  # noqa: E402

MARKERS = ("SOLUTION", "HIDDEN TESTS")
TRIED = "00_getting_started"  # the notebook the instructor "tried" in place
PY = sys.executable


def _sources(path):
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (ValueError, KeyError):
        return []
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def secret_and_public_lines():
    secret, public = set(), set()
    for nb in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for source in _sources(nb):
            inside = None
            for line in source.splitlines():
                text = line.strip()
                begin = next((m for m in MARKERS if text.startswith(f"### BEGIN {m}")), None)
                if begin:
                    inside = begin
                elif inside and text.startswith(f"### END {inside}"):
                    inside = None
                elif inside:
                    secret.add(text)
                else:
                    public.add(text)
    for nb in sorted((ROOT / "notebooks").glob("*/*.ipynb")):
        for source in _sources(nb):
            public.update(line.strip() for line in source.splitlines())
    bare_import = re.compile(r"^(import [\w.]+( as \w+)?|from [\w.]+ import [\w, ]+)$")
    return {s for s in secret if len(s) > 12 and s not in public and not bare_import.match(s)}, public


def _leaks(name: str, text: str, secret: set[str]) -> list[str]:
    if name.endswith(".ipynb"):
        try:
            nb = json.loads(text)
            text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                             for c in nb["cells"]) + "\n" + json.dumps([c.get("outputs", []) for c in nb["cells"]])
        except (ValueError, KeyError):
            pass
    lines = {line.strip() for line in text.splitlines()}
    # Other files (the course package, set-up files) share short generic lines with solutions by chance
    # (`images = np.asarray(images)`): there, only distinctive lines count.
    shortest = 12 if name.endswith(".ipynb") else 30
    return [f"{name}: {s}" for s in secret if s in lines and len(s) > shortest]


@pytest.fixture(scope="module")
def secret():
    lines, _ = secret_and_public_lines()
    assert lines, "no solution notebook with secret lines"
    return lines


def _solution_lines(name: str) -> list[str]:
    """The lines between the solution markers of a solution notebook."""
    out, inside = [], False
    for source in _sources(ROOT / "solutions" / name / f"{name}.ipynb"):
        for line in source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside:
                out.append(line)
    return out


def _tried_in_place(notebook: Path, solution: list[str]) -> None:
    """What JupyterLab's autosave leaves after an instructor solved the first exercise and ran the cells."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    first = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    first["source"] = first["source"].replace("raise NotImplementedError()", "\n    ".join(solution))
    for n, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        cell["execution_count"] = n + 1
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "mean training pixel: 0.1307\n"}]
    notebook.write_text(json.dumps(nb), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(zip path, unpacked bundle folder, names, what release said on stderr, planted solution lines)."""
    course = tmp_path_factory.mktemp("course-tried")
    for name, source in release.COPIED:
        (course / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / source, course / source)
    for item in ("course", "datasets", "notebooks"):
        shutil.copytree(ROOT / item, course / item, ignore=shutil.ignore_patterns("cache", "__pycache__"))
    for item in ("environment.yml", "requirements.txt"):
        shutil.copy(ROOT / item, course / item)
    planted = [line.strip() for line in _solution_lines(TRIED) if len(line.strip()) > 12]
    assert planted, f"solutions/{TRIED} has no solution line to plant"
    _tried_in_place(course / "notebooks" / TRIED / f"{TRIED}.ipynb", _solution_lines(TRIED))
    out = tmp_path_factory.mktemp("dist") / "tf-course-student.zip"
    said = subprocess.run([PY, "-c", f"import sys; sys.path.insert(0, {str(ROOT / 'autograder')!r}); import release, "
                           f"pathlib, json; print(json.dumps(release.build(pathlib.Path({str(out)!r}), pathlib.Path({str(course)!r}))))"],
                          capture_output=True, text=True, timeout=900)
    assert said.returncode == 0, said.stderr
    names = json.loads(said.stdout.strip().splitlines()[-1])
    unpacked = tmp_path_factory.mktemp("student")
    with zipfile.ZipFile(out) as zf:
        zf.extractall(unpacked)
    return out, unpacked / release.TOP, names, said.stderr, planted


def test_no_secret_line_anywhere_under_notebooks(secret):
    leaks = []
    for path in sorted((ROOT / "notebooks").rglob("*")):
        if path.is_file():
            leaks += _leaks(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8", errors="replace"), secret)
    assert leaks == []


def test_bundle_has_what_students_need_and_no_secret(built, secret):
    out, _, names, _, _ = built
    with zipfile.ZipFile(out) as zf:
        members = zf.namelist()
        assert all(m.startswith("tf-course/") for m in members)
        rel = [m.removeprefix("tf-course/") for m in members]
        assert not [m for m in rel if m.split("/")[0] in release.NEVER]
        for needed in ("README.md", "Makefile", "pyproject.toml", "requirements.txt", "requirements-cpu.txt",
                       "requirements-gpu.txt", "requirements.lock", "environment.yml", "datasets/manifest.json",
                       "course/__init__.py", "course/data.py", "home.ipynb", "progress.py", "nbgrader_config.py",
                       "jupyter-config/jupyter_server_config.json", "jupyter-config/labconfig/page_config.json",
                       "jupyter-config/custom/custom.css"):
            assert needed in rel, needed
        assert any(m.endswith(".sha256") for m in rel)
        solutions = {f"notebooks/{p.parent.name}/{p.name}" for p in (ROOT / "solutions").glob("*/*.ipynb")}
        assert {m for m in rel if m.startswith("notebooks/")} == solutions
        leaks = []
        for m in members:
            leaks += _leaks(m, zf.read(m).decode("utf-8", errors="replace"), secret)
        assert leaks == []
        assert "solutions/" not in zf.read("tf-course/README.md").decode()
    assert sorted(names) == sorted(rel)


def test_a_notebook_tried_in_place_cannot_reach_the_zip(built):
    out, _, _, said, planted = built
    with zipfile.ZipFile(out) as zf:
        shipped = zf.read(f"tf-course/notebooks/{TRIED}/{TRIED}.ipynb").decode()
        nb = json.loads(shipped)
        lines = {line.strip() for c in nb["cells"] for line in c["source"].splitlines()}
        assert not lines & set(planted), "a solution line typed into notebooks/ reached the zip"
        assert "raise NotImplementedError()" in shipped
        for name in zf.namelist():
            if name.endswith(".ipynb"):
                cells = json.loads(zf.read(name))["cells"]
                assert [c for c in cells if c.get("outputs") or c.get("execution_count")] == [], name
    assert f"{TRIED}.ipynb" in said and "not shipped" in said, said


def test_every_file_in_the_zip_is_a_regular_file_anyone_can_read(built):
    out = built[0]
    with zipfile.ZipFile(out) as zf:
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert {name: oct(mode) for name, mode in modes.items() if mode != (stat.S_IFREG | 0o644)} == {}
    # what an unzip tool makes of it
    bundle = built[1]
    assert all((p.stat().st_mode & 0o444) == 0o444 for p in bundle.rglob("*") if p.is_file())


def _targets(bundle: Path) -> list[str]:
    run = subprocess.run(["make", "help"], cwd=bundle, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return [line.split()[1] for line in run.stdout.splitlines() if line.strip().startswith("make ")]


def test_the_student_makefile_has_only_student_targets_and_each_works(built):
    bundle = built[1]
    assert _targets(bundle) == ["help", "setup", "lab", "check", "clean"]
    for target, expect in (("setup", "requirements-cpu.txt"), ("lab", "--LabApp.default_url=/lab/tree/home.ipynb"),
                           ("check", "progress.py"), ("clean", "rm -rf .venv")):
        run = subprocess.run(["make", "-n", target, "PYTHON=" + PY], cwd=bundle, capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 0 and expect in run.stdout, (target, run.stdout, run.stderr)
    gpu = subprocess.run(["make", "-n", "setup", "GPU=1"], cwd=bundle, capture_output=True, text=True, timeout=60)
    assert "requirements-gpu.txt" in gpu.stdout
    # the files the targets name are in the bundle
    makefile = (bundle / "Makefile").read_text()
    for name in re.findall(r"[\w./-]+\.(?:txt|lock|py|ipynb)\b", makefile):
        assert (bundle / name.removeprefix("/lab/tree/")).is_file(), f"the Makefile names {name}, not in the bundle"
    assert (bundle / "jupyter-config").is_dir() and "JUPYTER_CONFIG_PATH := $(CURDIR)/jupyter-config" in makefile


def test_the_readme_commands_are_the_makefile_targets(built):
    bundle = built[1]
    readme = (bundle / "README.md").read_text()
    named = set(re.findall(r"`?make ([a-z-]+)", readme))
    assert named and named <= set(_targets(bundle)), named - set(_targets(bundle))
    for path in re.findall(r"`((?:notebooks/|jupyter-config|home\.ipynb|environment\.yml)[^`\s]*)`", readme):
        if "NN_topic" not in path:
            assert (bundle / path.split("=")[-1].replace("$PWD/", "")).exists(), path


def test_the_student_requirements_are_lean_and_pinned_as_the_course(built):
    bundle = built[1]
    student = release._pins((bundle / "requirements.txt").read_text())
    course = release._pins((ROOT / "requirements.txt").read_text())
    left_out = release.instructor_only_packages()
    assert {"pytest", "pytest-xdist", "nbval", "playwright"} <= left_out
    assert not left_out & set(student)
    assert {"nbgrader", "jupyterlab", "ipykernel", "keras", "numpy"} <= set(student)
    assert {k: v for k, v in student.items() if course.get(k) != v} == {}
    import yaml

    env = yaml.safe_load((bundle / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = release._pins("\n".join(f"- {p}" for p in pip))
    assert set(conda) == set(student) | {"tensorflow"}
    for name in ("requirements-cpu.txt", "requirements-gpu.txt"):
        assert "-r requirements.txt" in (bundle / name).read_text()


def _config(folder: Path):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", str(folder)).load_config()


def test_the_bundle_shows_only_the_students_nbgrader_tools(built, monkeypatch):
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager

    bundle = built[1]
    page = json.loads((bundle / "jupyter-config/labconfig/page_config.json").read_text())["disabledExtensions"]
    assert set(page) == {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                         "@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:course-list",
                         "@jupyter/nbgrader:menu"}
    assert "@jupyter/nbgrader:validate-assignment" not in page
    # As the server merges it with the environment's nbgrader.json (which enables all four): the bundle's wins.
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(bundle / "jupyter-config"))
    enabled = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
    assert {k: v for k, v in enabled.items() if k.startswith("nbgrader")} == {
        "nbgrader.server_extensions.formgrader": False, "nbgrader.server_extensions.assignment_list": False,
        "nbgrader.server_extensions.course_list": False, "nbgrader.server_extensions.validate_assignment": True}
    server = json.loads((bundle / "jupyter-config/jupyter_server_config.json").read_text())
    assert server["MappingKernelManager"]["cull_idle_timeout"] == release.CULL_IDLE_S
    assert "Exchange" not in _config(bundle)


def test_with_an_exchange_the_assignment_list_is_there_and_the_instructor_tools_are_not(tmp_path):
    files = release.jupyter_config("/srv/nbgrader/exchange")
    page = json.loads(files["jupyter-config/labconfig/page_config.json"])["disabledExtensions"]
    assert set(page) == {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"}
    server = json.loads(files["jupyter-config/jupyter_server_config.json"])["ServerApp"]["jpserver_extensions"]
    assert server == {"nbgrader.server_extensions.formgrader": False}
    (tmp_path / "nbgrader_config.py").write_text(release.student_nbgrader_config("/srv/nbgrader/exchange"))
    config = _config(tmp_path)
    assert config.Exchange.root == "/srv/nbgrader/exchange" and config.CourseDirectory.course_id == "tf-course"


def test_the_course_home_lists_every_notebook_from_its_header_and_metadata(built):
    bundle = built[1]
    home = json.loads((bundle / "home.ipynb").read_text())
    text = "\n".join(c["source"] for c in home["cells"])
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    solutions = sorted((ROOT / "solutions").glob("*/*.ipynb"))
    assert len(rows) == len(solutions) == 13
    for row, path in zip(rows, solutions):
        nb = json.loads(path.read_text())
        points = sum(c["metadata"].get("nbgrader", {}).get("points", 0) for c in nb["cells"]
                     if c["metadata"].get("nbgrader", {}).get("grade"))
        first = " ".join(nb["cells"][0]["source"].split())
        link, cell_time, cell_points, cell_builds = [c.strip() for c in row.strip("|").split(" | ")]
        assert f"(notebooks/{path.parent.name}/{path.name})" in link and (bundle / "notebooks" / path.parent.name
                                                                         / path.name).is_file()
        assert int(cell_points) == points, path.name
        # each field whole: the header's text from its label to the next label or the paragraph's end
        assert f"**Estimated time:** {cell_time}" in first and "**" not in cell_time, (path.name, cell_time)
        assert f"**Builds on:** {cell_builds}" in first.replace("](../", "](notebooks/"), (path.name, cell_builds)
        assert "**" not in cell_builds
        for link in re.findall(r"\]\(([^)]+\.ipynb)\)", cell_builds):
            assert (bundle / link).is_file(), link
        assert cell_time.endswith(".") and cell_builds.endswith("."), (path.name, cell_time, cell_builds)
    assert f"{sum(int(r.split(' | ')[2]) for r in rows)} points" in text
    assert "public checks" in text and "hidden tests" in text and "learning platform" in text
    assert f"{release.CULL_IDLE_S // 60} idle minutes" in text
    assert any(c["cell_type"] == "code" and "progress.py" in c["source"] for c in home["cells"])


def test_the_readme_and_validate_say_the_same_as_the_configuration(built):
    bundle = built[1]
    readme = (bundle / "README.md").read_text()
    config = _config(bundle)
    assert config.Execute.timeout >= 900 and config.Execute.interrupt_on_timeout is False
    assert f"up to {config.Execute.timeout // 60} minutes" in readme
    assert f"after {release.CULL_IDLE_S // 60} idle minutes" in readme
    assert "only the **public checks**" in readme and "hidden tests" in readme
    course_readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"up to {config.Execute.timeout // 60} minutes a cell" in course_readme
    assert f"after {release.CULL_IDLE_S // 60} idle minutes" in course_readme
    # the course root's configuration (JupyterLab started in the repository) validates the same way
    root = _config(ROOT)
    assert (root.Execute.timeout, root.Execute.interrupt_on_timeout) == (config.Execute.timeout, False)


def _validate_labextension() -> str:
    """nbgrader's Validate plugin, the JavaScript JupyterLab runs (the dialog's words are in it)."""
    import nbgrader

    static = Path(nbgrader.__file__).parent / "labextension" / "static"
    found = [p.read_text(encoding="utf-8") for p in static.glob("*.js") if "Validation Results" in p.read_text(
        encoding="utf-8")]
    assert len(found) == 1, "nbgrader's Validate plugin moved: check custom.css against its dialog"
    return found[0]


def test_validates_success_dialog_carries_the_courses_note_on_public_checks(built):
    """nbgrader's dialog says "Success! Your notebook passes all the tests." in words fixed in its labextension,
    in an element of class validation-success; the bundle's JupyterLab loads custom.css, which writes below it
    that only the public checks ran (tests/test_browser.py reads it in the dialog)."""
    bundle = built[1]
    script = _validate_labextension()
    assert '"Success! Your notebook passes all the tests."' in script
    assert 'classList.add("validation-success")' in script and 'classList.add("validation-failed")' in script
    server = json.loads((bundle / "jupyter-config/jupyter_server_config.json").read_text())
    assert server["LabApp"]["custom_css"] is True
    [folder] = server["ServerApp"]["tornado_settings"]["static_custom_path"]
    css = (bundle / folder / "custom.css").read_text()  # relative to the bundle, where `make lab` starts
    note = re.search(r"\.validation-success::after\s*\{[^}]*content:\s*\"([^\"]+)\"[^}]*display:\s*block", css)
    assert note and "Only the public checks" in note.group(1) and "hidden tests" in note.group(1), css
    assert re.search(r"\.validation-failed > \.jp-RenderedText:nth-child\(3n \+ 2\) pre\s*\{[^}]*max-height", css)


def test_validates_cell_timeout_covers_every_cell_the_course_runs(built):
    """`make test` runs every solution notebook under nbval with a cell limit: each cell of the course fits in
    it, so Validate's limit must be at least as long (a cell cut short would fail Validate for nothing)."""
    nbval = re.search(r"--nbval-cell-timeout (\d+)", (ROOT / "Makefile").read_text())
    assert nbval and _config(built[1]).Execute.timeout >= int(nbval.group(1))


def test_make_lab_in_the_repository_opens_the_course_home(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    settings = tmp_path / "overrides.d"
    home = release.repository_lab(tmp_path, settings=settings)
    assert home == tmp_path / "home.ipynb"
    cells = json.loads(home.read_text())["cells"]
    text = "\n".join(c["source"] for c in cells)
    assert len([line for line in text.splitlines() if line.startswith("| [")]) == 13
    for link in re.findall(r"\]\((notebooks/[^)]+\.ipynb)\)", text):
        assert (tmp_path / link).is_file(), link
    command = next(c["source"] for c in cells if c["cell_type"] == "code")
    script = "autograder/student_progress.py"
    assert command.endswith(f" {script} --notebooks notebooks\n") and (ROOT / script).is_file(), command
    assert "make check" not in text and "progress.py 03" not in text
    server = json.loads((tmp_path / release.LAB_CONFIG / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"] == {}  # every nbgrader tool, the instructor's too
    assert server["MappingKernelManager"]["cull_idle_timeout"] == release.CULL_IDLE_S
    assert (Path(server["ServerApp"]["tornado_settings"]["static_custom_path"][0]) / "custom.css").is_file()
    assert json.loads((settings / "tf-course.json").read_text()) == release.KERNEL_SHUTDOWN
    dry = subprocess.run(["make", "-n", "lab", f"PYTHON={PY}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert "autograder/release.py --repository-lab" in dry
    assert f"JUPYTER_CONFIG_PATH={ROOT}/{release.LAB_CONFIG}" in dry and "default_url=/lab/tree/home.ipynb" in dry
    assert subprocess.run(["git", "check-ignore", "-q", "home.ipynb"], cwd=ROOT).returncode == 0


def _exercise_notebook(folder: Path, answer: str, check: str, extra: str = "") -> Path:
    """A one-exercise notebook as nbgrader makes them: a solution cell, then a locked grade cell."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    def meta(**kw):
        base = dict(schema_version=3, grade=False, solution=False, locked=False, task=False)
        base.update(kw)
        return {"nbgrader": base}

    nb = new_notebook(cells=[
        new_code_cell(extra or "x = 1"),
        new_markdown_cell("### Exercise 1: add one (1 points)"),
        new_code_cell(answer, metadata=meta(solution=True, grade_id="add", cell_type="code")),
        new_code_cell(check, metadata=meta(grade=True, locked=True, points=1, grade_id="test_add",
                                           cell_type="code"))])
    nb.metadata["kernelspec"] = {"name": "tf-course", "display_name": "Python (TF course)", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{folder.name}.ipynb"
    nbformat.write(nb, path)
    return path


CHECK = "assert add_one(1) == 2, 'add_one(1) should be 2: did you add one?'"


def test_validate_shows_the_failing_checks_message_without_a_traceback(built, tmp_path):
    from nbgrader.validator import Validator

    path = _exercise_notebook(tmp_path / "01_x", "def add_one(x):\n    return x", CHECK)
    result = Validator(config=_config(built[1])).validate(str(path))
    assert [f["raw_error"].strip() for f in result["failed"]] != []
    error = re.sub(r"\x1b\[[0-9;]*m", "", result["failed"][0]["raw_error"]).strip()
    assert error == "AssertionError: add_one(1) should be 2: did you add one?"


def test_validate_fails_a_cell_that_runs_past_the_timeout_instead_of_skipping_it(built, tmp_path):
    from nbclient.exceptions import CellTimeoutError
    from nbgrader.validator import Validator

    config = _config(built[1])
    config.Execute.timeout = 3  # the bundle's 900 s, shortened for the test
    path = _exercise_notebook(tmp_path / "02_x", "def add_one(x):\n    return x + 1", CHECK,
                              extra="import time\ntime.sleep(30)")
    with pytest.raises(CellTimeoutError):  # the Validate dialog shows this error, never "Success!"
        Validator(config=config).validate(str(path))


def test_progress_lists_which_exercises_pass_their_public_checks(built, tmp_path):
    notebooks = tmp_path / "notebooks"
    _exercise_notebook(notebooks / "00_right", "def add_one(x):\n    return x + 1", CHECK)
    _exercise_notebook(notebooks / "01_wrong", "def add_one(x):\n    return x", CHECK)
    _exercise_notebook(notebooks / "02_untouched", "def add_one(x):\n    raise NotImplementedError()", CHECK)
    run = subprocess.run([PY, str(built[1] / "progress.py"), "--notebooks", str(notebooks),
                          "--json", str(tmp_path / "out.json")], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    status = {r["notebook"]: r["exercises"][0]["status"] for r in json.loads((tmp_path / "out.json").read_text())}
    assert status == {"00_right": "passes its public check",
                      "01_wrong": "FAILS: AssertionError: add_one(1) should be 2: did you add one?",
                      "02_untouched": "not started"}
    assert "1 of 3 points" in run.stdout and "hidden tests" in run.stdout


def test_progress_on_the_untouched_bundle_runs_nothing_and_says_so(built):
    bundle = built[1]
    run = subprocess.run([PY, "progress.py"], cwd=bundle, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("(not run)") == 13 and "passes its public check" not in run.stdout
    assert "worth 0 of" in run.stdout


def test_secret_scan_catches_a_planted_leak(secret):
    line = max(secret, key=len)
    assert _leaks("planted.py", f"x = 1\n    {line}\n", secret)
