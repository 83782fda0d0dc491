# nbgrader's settings on the student's side (the bundle's nbgrader_config.py; the course root's loads it too).
# JupyterLab's Validate button and `nbgrader validate` read it from the folder JupyterLab starts in.
c = get_config()  # noqa: F821 (provided by traitlets)
c.CourseDirectory.course_id = "tf-course"

# Validate runs the whole notebook, then reports the test cells that failed. A student's copy holds only the
# public checks (the grader adds hidden tests), so "Success!" means the public checks pass, nothing more.
# nbgrader's default is 30 s per cell, after which it interrupts the kernel and goes on: a training cell of
# notebook 10 was cut short and Validate still said "Success!". A cell may take as long as the course's own
# runs allow it (tests run every notebook with a 900 s cell limit; tests/test_autograder_release.py keeps the two
# in step), and a cell that runs past it fails Validate with CellTimeoutError instead of being skipped. Measured
# 2026-12-03 on 2 CPU cores: the course's slowest cell (notebook 10's CNN training) 202 s with the machine under a
# load of ~14, the whole of notebook 10 170 s in `make test`: 900 s leaves a margin of 4x for a slow laptop.
c.Execute.timeout = 900
c.Execute.interrupt_on_timeout = False
# A failing check shows its message ("AssertionError: expected shape (2, 784), got (2, 28, 28)") without the
# traceback around it. The first argument is what nbgrader passes to Python kernels by default.
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--InteractiveShell.xmode=Minimal"]

# Fetching and submitting through nbgrader's exchange, only where the instructor runs one (a shared server):
# the instructor's `make release EXCHANGE=<folder>` writes it below (and enables the Assignment List in
# jupyter-config/). Without an exchange, students submit the .ipynb file to the course's learning platform.
EXCHANGE = ""
if EXCHANGE:
    c.Exchange.root = EXCHANGE
