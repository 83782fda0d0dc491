"""The course in a real browser: JupyterLab on 127.0.0.1 with a temporary token, driven by Playwright in
Debian's chromium. Screenshots of both journeys are saved under artifacts/screenshots/ (git-ignored).

The instructor's day, in the course repository served as its `make lab` serves it: JupyterLab opens on the
course home; a student notebook's set-up cell runs; the Assignment List and Formgrader show the course's
assignments; after `make grade` on a class of two, the formgrader shows their scores and a student's feedback
page opens. The student's day, in the bundle `make release` builds (unzipped in a fresh folder, served as its
`make lab` serves it): JupyterLab opens on the course home, nbgrader's instructor tools and the exchange-less
Assignment List are not there, and Validate on an answer that passes the public check but not the hidden tests
says nbgrader's "Success! Your notebook passes all the tests." with the course's note right below it in the
same dialog: only the public checks ran, the grader also runs hidden tests."""

import contextlib
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("COURSE_ARTIFACTS", ROOT / "artifacts")) / "screenshots"
FIRST = "00_getting_started"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium: install Debian's chromium "
                                "(make test does so when run as root) to run the browser test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _release_assignments(env: dict, course: Path) -> list[str]:
    """Put every assignment in a temporary gradebook and release it to a temporary exchange, as an
    instructor would with `nbgrader release_assignment`, so the student's Assignment List has them."""
    code = """
import sys
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.api import Gradebook
from traitlets.config.loader import PyFileConfigLoader
config = PyFileConfigLoader("nbgrader_config.py", ".").load_config()
names = sorted(p.name for p in __import__("pathlib").Path("notebooks").iterdir() if p.is_dir())
with Gradebook(config.CourseDirectory.db_url, course_id="tf-course") as gb:
    for name in names:
        gb.update_or_create_assignment(name)
api = NbGraderAPI(CourseDirectory(config=config), config=config)
for name in names:
    result = api.release_assignment(name)
    assert result["success"], result
print(" ".join(names))
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=course, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's whole process group (kernels included), SIGKILL what is left after 20 s."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, None)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _lab_arguments(folder: Path) -> list[str]:
    """The options `make lab` gives `jupyter lab` in folder (from `make -n lab`), less --allow-root."""
    dry = subprocess.run(["make", "-n", "lab", f"PYTHON={sys.executable}"], cwd=folder, capture_output=True,
                         text=True, timeout=60, check=True).stdout.replace("\\\n", " ")
    command = next(line.split() for line in dry.splitlines() if " lab " in f"{line} " and "jupyter" in line)
    return [a for a in command[command.index("lab") + 1:] if a != "--allow-root"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the course root, as the repository's `make lab` starts it (the course
    home written by release.repository_lab, its settings); always shut down, even when a test fails."""
    sys.path.insert(0, str(ROOT / "autograder"))
    import release

    work = tmp_path_factory.mktemp("grader-work")
    # A copy of the course to serve, so that JupyterLab's autosave can never write into the repository.
    course = tmp_path_factory.mktemp("course")
    for item in ("nbgrader_config.py", "autograder/nbgrader_config.py", "autograder/student_nbgrader_config.py",
                 "solutions", "notebooks"):
        (course / item).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy
        copy(ROOT / item, course / item)
    release.repository_lab(course, settings=work / "lab-settings")
    env = dict(os.environ, COURSE_GRADER_WORK=str(work), JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               JUPYTER_CONFIG_PATH=str(course / release.LAB_CONFIG),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    names = _release_assignments(env, course)
    with _serve(course, env, work, *_lab_arguments(ROOT)) as (base, token):
        yield base, token, names


def _open_the_course_home(page, base: str, token: str) -> None:
    """Go where `make lab` sends the browser: JupyterLab lands on the course home, its table of 13 notebooks."""
    page.goto(f"{base}/?token={token}")
    page.wait_for_url("**/lab/tree/home.ipynb**", timeout=120_000)
    rendered = page.locator(".jp-Notebook .jp-RenderedMarkdown")
    rendered.locator("h1").filter(has_text="course home").wait_for(timeout=120_000)
    rendered.get_by_role("link", name="00 · ").first.wait_for(timeout=60_000)
    assert rendered.locator("table tbody tr").count() == 13


def _notebook_panel(page):
    """Notebook 00's panel: the course home, open in another tab, has its own code cells and Validate button."""
    return page.locator(".jp-NotebookPanel").filter(has=page.locator("h1", has_text="00 · Getting started"))


def _validate(page, base: str, token: str, notebook: str):
    """Open notebooks/00_getting_started/<notebook>.ipynb, click its panel's Validate; the results dialog."""
    page.goto(f"{base}/lab/tree/notebooks/{FIRST}/{notebook}.ipynb?reset&token={token}")
    page.get_by_text("Python (TF course) | Idle").wait_for(timeout=180_000)
    _notebook_panel(page).locator(".jp-Toolbar").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=400_000)  # the whole notebook runs first
    return dialog


def test_make_lab_in_the_repository_opens_the_course_home_with_the_instructors_tools(lab, browser):
    base, token, _ = lab
    with screenshot_page(browser, "instructor_course_home") as page:
        _open_the_course_home(page, base, token)
        page.get_by_role("menuitem", name="Nbgrader").click(timeout=60_000)
        page.get_by_role("menuitem", name="Formgrader").wait_for(timeout=30_000)
        page.keyboard.press("Escape")


@contextlib.contextmanager
def _serve(course: Path, env: dict, work: Path, *args: str):
    """JupyterLab serving course (started there, as `make lab` does) until the block ends: (base URL, token)."""
    port, token = _free_port(), secrets.token_hex(16)
    log = open(work / "lab.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False", *args]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # nbgrader's import alone takes ~10 s on a busy 2-core machine
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + (work / "lab.log").read_text())
                time.sleep(0.5)
        yield base, token
    finally:
        _stop(server)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # shared with tests/test_formgrader.py: each test replaces its own
    with sync_playwright() as p:
        # Flags: no sandbox as root; no background connections, which this offline machine refuses.
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def screenshot_page(browser, name: str):
    """A new page; on leaving, its screenshot as artifacts/screenshots/<name>.png, or <name>_FAILED.png when the
    test failed inside, and the page closed."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    for stale in (f"{name}.png", f"{name}_FAILED.png"):
        (ARTIFACTS / stale).unlink(missing_ok=True)
    try:
        yield page
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{name}_FAILED.png"))
        raise
    finally:
        page.close()


def test_a_student_notebook_runs_its_set_up_cell(lab, browser):
    base, token, _ = lab
    with screenshot_page(browser, "student_notebook_setup_cell") as page:
        page.goto(f"{base}/lab/tree/notebooks/{FIRST}/{FIRST}.ipynb?reset&token={token}")
        first_code = _notebook_panel(page).locator(".jp-Notebook .jp-CodeCell").first
        first_code.wait_for(timeout=120_000)
        # The kernel must be connected and idle, or the run request is dropped.
        page.get_by_text("Python (TF course) | Idle").wait_for(timeout=180_000)
        first_code.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        first_code.locator(".jp-InputPrompt").filter(has_text="[1]").or_(
            first_code.locator(".jp-InputPrompt").filter(has_text="[*]")).wait_for(timeout=30_000)
        output = first_code.locator(".jp-OutputArea-output")
        output.filter(has_text="device:").wait_for(timeout=180_000)
        text = output.inner_text()
        assert "tensorflow 2.21" in text and "device: /" in text
        assert "WARNING" not in text


def test_the_assignment_list_shows_the_released_assignments(lab, browser):
    base, token, names = lab
    with screenshot_page(browser, "instructor_assignment_list") as page:
        page.goto(f"{base}/lab?reset&token={token}")
        # As a student does it: the Nbgrader menu, then Assignment List.
        page.get_by_role("menuitem", name="Nbgrader").click(timeout=120_000)
        page.get_by_role("menuitem", name="Assignment List").click()
        released = page.locator("#released_assignments_list")
        for name in names:
            released.get_by_text(name, exact=True).wait_for(timeout=60_000)


def test_the_formgrader_shows_the_course_assignments(lab, browser):
    base, token, names = lab
    with screenshot_page(browser, "instructor_formgrader_assignments") as page:
        page.goto(f"{base}/formgrader/manage_assignments?token={token}")
        for name in names:
            page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)


# --- the student's day, in the bundle ---

WRONG_BUT_PUBLIC = '''# GRADED FUNCTION: flatten_and_scale
import numpy as np


def flatten_and_scale(images):
    # handles only a batch of 2-D images (3-D input): the public check passes, a hidden test does not
    images = np.asarray(images)
    return (images.reshape(images.shape[0], images.shape[1] * images.shape[2]) / 255).astype(np.float32)
'''

FAILS_PUBLIC = '''# GRADED FUNCTION: flatten_and_scale
import numpy as np


def flatten_and_scale(images):
    # scales but does not flatten: the public check's shape assertion fails
    return np.asarray(images, dtype=np.float32) / 255
'''
WRONG_COPY = f"{FIRST}_fails_public_check"


@pytest.fixture(scope="module")
def student_lab(tmp_path_factory):
    """The student bundle `make release` builds, unzipped in a fresh folder and served as its `make lab` does
    (the command from `make -n lab`, the course's settings from its jupyter-config/), with the repository's
    environment standing in for the one `make setup` would install."""
    sys.path.insert(0, str(ROOT / "autograder"))
    import release

    work = tmp_path_factory.mktemp("student-work")
    release.build(work / "student.zip")
    with zipfile.ZipFile(work / "student.zip") as zf:
        zf.extractall(work)
    bundle = work / release.TOP
    args = _lab_arguments(bundle)
    # The student has answered exercise 1 of 00 with code that passes the public check only.
    path = bundle / "notebooks" / FIRST / f"{FIRST}.ipynb"
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    cell["source"] = WRONG_BUT_PUBLIC
    path.write_text(json.dumps(nb))
    # and, in a copy beside it, with code that fails the public check
    cell["source"] = FAILS_PUBLIC
    (path.parent / f"{WRONG_COPY}.ipynb").write_text(json.dumps(nb))
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(bundle / "jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with _serve(bundle, env, work, *args) as (base, token):
        yield base, token, bundle


def test_the_student_bundle_opens_on_the_course_home_with_only_the_students_tools(student_lab, browser):
    base, token, bundle = student_lab
    with screenshot_page(browser, "student_course_home") as page:
        _open_the_course_home(page, base, token)
        page.get_by_role("menuitem", name="Kernel").wait_for(timeout=60_000)
        assert page.get_by_role("menuitem", name="Nbgrader").count() == 0  # no Assignment List, no Formgrader
        assert page.get_by_text("Create Assignment").count() == 0
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{base}/formgrader?token={token}", timeout=30)
    assert missing.value.code == 404


def test_validate_on_an_answer_that_passes_only_the_public_check(student_lab, browser):
    """nbgrader's dialog says "Success! Your notebook passes all the tests." (its words, fixed in its
    labextension); the course's custom.css writes below it, in the same dialog, that only the public checks ran
    and the grader also runs hidden tests. The course home and README say so too."""
    base, token, bundle = student_lab
    with screenshot_page(browser, "student_validate_public_only") as page:
        dialog = _validate(page, base, token, FIRST)
        text = dialog.inner_text()
        assert "Success! Your notebook passes all the tests." in text, text
        # What the student reads below it: the course's note (CSS generated content, not in inner_text)
        note = page.evaluate("""() => {
            const body = document.querySelector('.jp-Dialog .validation-success');
            const style = getComputedStyle(body, '::after');
            return {content: style.content, display: style.display, visibility: style.visibility};
        }""")
        assert note["display"] == "block" and note["visibility"] == "visible", note
        assert "Only the public checks in this notebook ran" in note["content"], note
        assert "the grader also runs hidden tests" in note["content"], note
    home = "\n".join("".join(c["source"]) for c in json.loads((bundle / "home.ipynb").read_text())["cells"])
    readme = (bundle / "README.md").read_text()
    for said in (home, readme):
        assert "only the **public checks**" in said or "only the **public checks**" in said.replace("\n", " ")
        assert "hidden tests" in said and "Success!" in said


def test_validate_shows_the_failing_checks_message_in_view(student_lab, browser):
    """The dialog lists the failing check cell's source, then its error: the assertion's message, one line
    (the bundle's xmode=Minimal), in view without scrolling (custom.css keeps the source's box short)."""
    from playwright.sync_api import expect

    base, token, _ = student_lab
    with screenshot_page(browser, "student_validate_failing_check") as page:
        dialog = _validate(page, base, token, WRONG_COPY)
        failed = dialog.locator(".validation-failed")
        error = failed.locator(".jp-RenderedText pre").nth(1)
        text = error.inner_text().strip()
        assert text == "AssertionError: expected shape (2, 784), got (2, 28, 28)", text
        assert "Success!" not in dialog.inner_text() and "Traceback" not in failed.inner_text()
        expect(error).to_be_in_viewport(ratio=1)


# --- the instructor's day after the deadline: `make grade`, the formgrader, a student's feedback ---

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """`make grade` (autograder/grade.py) on a class of two who submitted 00: alice solved it, bob's answer passes
    the public check only. Its output folder."""
    subs = tmp_path_factory.mktemp("class") / "submitted"
    solution = json.loads((ROOT / "solutions" / FIRST / f"{FIRST}.ipynb").read_text())
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in solution["cells"]
               if c["metadata"].get("nbgrader", {}).get("solution")}
    student = json.loads((ROOT / "notebooks" / FIRST / f"{FIRST}.ipynb").read_text())
    for who, answer in (("alice", answers), ("bob", {gid: WRONG_BUT_PUBLIC for gid in answers})):
        nb = json.loads(json.dumps(student))
        for cell in nb["cells"]:
            cell["source"] = answer.get(cell["metadata"].get("nbgrader", {}).get("grade_id"), cell["source"])
        (subs / who / FIRST).mkdir(parents=True)
        (subs / who / FIRST / f"{FIRST}.ipynb").write_text(json.dumps(nb))
    out = subs.parent / "grades"
    # the course's own limits, as tests/test_grading_course.py: a busy 2-core machine is slow to import TensorFlow
    run = subprocess.run([sys.executable, str(ROOT / "autograder" / "grade.py"), str(subs), "--out", str(out),
                          "--cell-timeout", "900", "--notebook-timeout", "1800"],
                         capture_output=True, text=True, timeout=2400, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with open(out / "grades.csv", newline="") as f:
        scores = {r["student"]: (r["score"], r["max_score"], r["status"]) for r in csv.DictReader(f)}
    assert scores == {"alice": ("2", "2", "ok"), "bob": ("0", "2", "ok")}, (scores, run.stdout[-3000:])
    return out


def test_the_instructor_sees_the_class_in_the_formgrader(graded, browser, tmp_path_factory):
    work = tmp_path_factory.mktemp("formgrader")
    course = graded / "work" / "course"  # `make grade`'s formgrader course, its nbgrader_config.py on the gradebook
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with _serve(course, env, work) as (base, token):
        with screenshot_page(browser, "instructor_formgrader_grades") as page:
            # log in where the instructor enters the formgrader (the login cookie's path is the URL's folder)
            page.goto(f"{base}/formgrader/manage_assignments?token={token}")
            page.get_by_text(FIRST, exact=True).first.wait_for(timeout=120_000)
            page.goto(f"{base}/formgrader/gradebook/{FIRST}/{FIRST}")
            rows = page.locator("table tbody tr")
            rows.filter(has_text="bob").wait_for(timeout=120_000)
            page.get_by_role("button", name="Show All Names").click()  # the formgrader hides them at first
            text = {who: " ".join(rows.filter(has_text=who).first.inner_text().split()) for who in ("alice", "bob")}
            assert text["alice"].startswith("alice 2 / 2") and text["bob"].startswith("bob 0 / 2"), text


def test_the_instructor_opens_a_students_feedback(graded, browser):
    with screenshot_page(browser, "instructor_feedback_bob") as page:
        page.goto((graded / "feedback" / "bob" / FIRST / f"{FIRST}.html").as_uri())
        body = " ".join(page.locator("body").inner_text().split())
        # the grader's report on top (its exact words are report.py's): bob, 0 of 2 points, the failed check
        head = body[body.index("Grader report"):][:600]
        assert "bob" in head and "0 / 2" in head and "n00_test_flatten_and_scale" in head, head


def test_with_an_exchange_the_student_has_the_assignment_list_and_no_instructor_tool(student_lab, browser,
                                                                                      tmp_path_factory):
    """The bundle as `make release EXCHANGE=<folder>` makes it (its nbgrader_config.py and jupyter-config/)."""
    import release

    _, _, built = student_lab
    work = tmp_path_factory.mktemp("student-exchange")
    bundle, exchange = work / release.TOP, work / "exchange"
    shutil.copytree(built, bundle, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    exchange.mkdir(mode=0o777)
    (bundle / "nbgrader_config.py").write_text(release.student_nbgrader_config(str(exchange)))
    for name, text in release.jupyter_config(str(exchange)).items():
        (bundle / name).write_text(text)
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(bundle / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(work / "rt"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with _serve(bundle, env, work, "--LabApp.default_url=/lab/tree/home.ipynb") as (base, token):
        with screenshot_page(browser, "student_exchange_assignment_list") as page:
            page.goto(f"{base}/lab?reset&token={token}")
            page.get_by_role("menuitem", name="Nbgrader").click(timeout=120_000)
            items = page.locator(".lm-Menu").last.get_by_role("menuitem")
            items.first.wait_for(timeout=30_000)
            labels = [t.strip() for t in items.all_inner_texts()]
            assert [t for t in labels if t] == ["Assignment List", "Course List"], labels
            page.get_by_role("menuitem", name="Assignment List").click()
            page.locator("#released_assignments_list").wait_for(timeout=60_000)
            page.wait_for_timeout(3_000)
            assert page.get_by_text("Error", exact=False).count() == 0
