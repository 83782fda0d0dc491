"""The course in a real browser: JupyterLab on 127.0.0.1 with a temporary token, driven by Playwright in
Debian's chromium. Screenshots are saved under artifacts/browser/.

The instructor's day, in the course repository: a student notebook's set-up cell runs; the Assignment List and
Formgrader show the course's assignments. The student's day, in the bundle `make release` builds (unzipped in a
fresh folder, served as its `make lab` serves it): JupyterLab opens on the course home, nbgrader's instructor
tools and the exchange-less Assignment List are not there, and Validate on an answer that passes the public
check but not the hidden tests says "Success!", which the course home and README explain (public checks only)."""

import contextlib
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
ARTIFACTS = Path(os.environ.get("COURSE_ARTIFACTS", ROOT / "artifacts")) / "browser"
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


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on the course root; always shut down, even when a test fails."""
    work = tmp_path_factory.mktemp("grader-work")
    # A copy of the course to serve, so that JupyterLab's autosave can never write into the repository.
    course = tmp_path_factory.mktemp("course")
    for item in ("nbgrader_config.py", "autograder/nbgrader_config.py", "autograder/student_nbgrader_config.py",
                 "solutions", "notebooks"):
        (course / item).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy
        copy(ROOT / item, course / item)
    env = dict(os.environ, COURSE_GRADER_WORK=str(work), JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    names = _release_assignments(env, course)
    with _serve(course, env, work) as (base, token):
        yield base, token, names


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

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
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
    """A new page; on leaving, its screenshot as artifacts/browser/<name>.png, or <name>_FAILED.png when the
    test failed inside, and the page closed."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
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
        page.goto(f"{base}/lab/tree/notebooks/{FIRST}/{FIRST}.ipynb?token={token}")
        first_code = page.locator(".jp-Notebook .jp-CodeCell").first
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
    with screenshot_page(browser, "assignment_list") as page:
        page.goto(f"{base}/lab?reset&token={token}")
        # As a student does it: the Nbgrader menu, then Assignment List.
        page.get_by_role("menuitem", name="Nbgrader").click(timeout=120_000)
        page.get_by_role("menuitem", name="Assignment List").click()
        released = page.locator("#released_assignments_list")
        for name in names:
            released.get_by_text(name, exact=True).wait_for(timeout=60_000)


def test_the_formgrader_shows_the_course_assignments(lab, browser):
    base, token, names = lab
    with screenshot_page(browser, "formgrader") as page:
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
    dry = subprocess.run(["make", "-n", "lab", f"PYTHON={sys.executable}"], cwd=bundle, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    command = next(line.split() for line in dry.splitlines() if " lab " in f"{line} " and "jupyter" in line)
    args = [a for a in command[command.index("lab") + 1:] if a != "--allow-root"]
    # The student has answered exercise 1 of 00 with code that passes the public check only.
    path = bundle / "notebooks" / FIRST / f"{FIRST}.ipynb"
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    cell["source"] = WRONG_BUT_PUBLIC
    path.write_text(json.dumps(nb))
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(bundle / "jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with _serve(bundle, env, work, *args) as (base, token):
        yield base, token, bundle


def test_the_student_bundle_opens_on_the_course_home_with_only_the_students_tools(student_lab, browser):
    base, token, bundle = student_lab
    with screenshot_page(browser, "student_course_home") as page:
        page.goto(f"{base}/?token={token}")  # where `make lab` sends the browser
        page.wait_for_url("**/lab/tree/home.ipynb**", timeout=120_000)
        rendered = page.locator(".jp-Notebook .jp-RenderedMarkdown")
        rendered.locator("h1").filter(has_text="course home").wait_for(timeout=120_000)
        rendered.get_by_role("link", name="00 · ").first.wait_for(timeout=60_000)
        assert rendered.locator("table tbody tr").count() == 13
        page.get_by_role("menuitem", name="Kernel").wait_for(timeout=60_000)
        assert page.get_by_role("menuitem", name="Nbgrader").count() == 0  # no Assignment List, no Formgrader
        assert page.get_by_text("Create Assignment").count() == 0
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{base}/formgrader?token={token}", timeout=30)
    assert missing.value.code == 404


def test_validate_on_an_answer_that_passes_only_the_public_check(student_lab, browser):
    """nbgrader's dialog says "Success! Your notebook passes all the tests." (its words, fixed in its
    labextension): the notebook has only the public checks, and the course home and README say so."""
    base, token, bundle = student_lab
    with screenshot_page(browser, "student_validate_public_only") as page:
        page.goto(f"{base}/lab/tree/notebooks/{FIRST}/{FIRST}.ipynb?reset&token={token}")
        page.get_by_text("Python (TF course) | Idle").wait_for(timeout=180_000)
        # the button of this notebook's panel (the course home, open in another tab, has one too)
        panel = page.locator(".jp-NotebookPanel").filter(has=page.locator("h1", has_text="00 · Getting started"))
        panel.locator(".jp-Toolbar").get_by_text("Validate", exact=True).click()
        dialog = page.locator(".jp-Dialog")
        dialog.get_by_text("Validation Results").wait_for(timeout=400_000)  # the whole notebook runs first
        text = dialog.inner_text()
        assert "Success!" in text, text
    home = "\n".join("".join(c["source"]) for c in json.loads((bundle / "home.ipynb").read_text())["cells"])
    readme = (bundle / "README.md").read_text()
    for said in (home, readme):
        assert "only the **public checks**" in said or "only the **public checks**" in said.replace("\n", " ")
        assert "hidden tests" in said and "Success!" in said


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
