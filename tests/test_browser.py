"""The course in a real browser: JupyterLab on 127.0.0.1 with a temporary token, driven by Playwright in
Debian's chromium. A student notebook's set-up cell runs; the Assignment List and Formgrader show the
course's assignments. Screenshots are saved under artifacts/browser/."""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
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
    for item in ("nbgrader_config.py", "autograder/nbgrader_config.py", "solutions", "notebooks"):
        (course / item).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy
        copy(ROOT / item, course / item)
    env = dict(os.environ, COURSE_GRADER_WORK=str(work), JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    names = _release_assignments(env, course)
    port, token = _free_port(), secrets.token_hex(16)
    log = open(work / "lab.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False"]
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
        yield base, token, names
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
