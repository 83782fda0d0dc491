"""What one grading run is told: where things are, the limits, the options. Built once from the command line and
nbgrader_config.py (`Settings.from_args`), then passed to every stage instead of loose arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import Limits

HERE = Path(__file__).resolve().parent
CONFIG_FILE = HERE / "nbgrader_config.py"


def load_config():
    """The course's nbgrader configuration (autograder/nbgrader_config.py), as a traitlets Config."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_FILE.name, str(CONFIG_FILE.parent)).load_config()


@dataclass(frozen=True)
class Settings:
    submissions: Path
    out: Path                       # grades.csv, feedback/, gradebook.db; work/ below it
    source_dir: Path                # the instructor notebooks (solutions/)
    limits: Limits
    jobs: int = os.cpu_count() or 1
    sandbox_tests: frozenset = frozenset()   # assignments whose test cells run in the student's sandbox
    ignore_pattern: str = ""        # nbgrader's IgnorePattern: stderr lines that are warnings, not errors
    keep_work: bool = False
    scheduler: str = ""             # a Dask scheduler address; empty: grade on this machine
    config: object = field(default=None, compare=False, repr=False)

    @property
    def work(self) -> Path:
        return self.out / "work"

    @property
    def course(self) -> Path:
        """The formgrader's course folder: source/, release/, submitted/, autograded/."""
        return self.work / "course"

    @property
    def submitted(self) -> Path:
        return self.course / "submitted"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.out / 'gradebook.db'}"

    @classmethod
    def from_args(cls, args, config=None) -> "Settings":
        config = load_config() if config is None else config
        # Assignments whose tests must run inside the sandbox: the course's list (nbgrader_config.py) and
        # --tests-in-sandbox.
        sandbox_tests = set(args.tests_in_sandbox)
        if "CourseGrader" in config and "tests_in_sandbox" in config.CourseGrader:
            sandbox_tests |= set(config.CourseGrader.tests_in_sandbox)
        return cls(
            submissions=Path(args.submissions).resolve(), out=Path(args.out).resolve(),
            source_dir=Path(args.source).resolve(),
            limits=Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                          memory_mb=args.memory_mb, processes=args.processes),
            jobs=args.jobs, sandbox_tests=frozenset(sandbox_tests),
            ignore_pattern=str(config.IgnorePattern.pattern) if "IgnorePattern" in config else "",
            keep_work=args.keep_work, scheduler=getattr(args, "scheduler", "") or "", config=config)
