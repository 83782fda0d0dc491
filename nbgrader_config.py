# nbgrader and its JupyterLab extensions read this file from the folder JupyterLab starts in (the course
# root). The course's settings live in autograder/nbgrader_config.py, Validate's (the same as in the student
# bundle) in autograder/student_nbgrader_config.py; this file only adds where things are: the gradebook and the
# exchange stay under the git-ignored autograder/work/ unless overridden.
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets)
root = Path(__file__).resolve().parent
load_subconfig(str(root / "autograder" / "nbgrader_config.py"))  # noqa: F821
load_subconfig(str(root / "autograder" / "student_nbgrader_config.py"))  # noqa: F821
work = Path(os.environ.get("COURSE_GRADER_WORK", root / "autograder" / "work"))
work.mkdir(parents=True, exist_ok=True)
c.CourseDirectory.root = str(root)
c.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}"
c.Exchange.root = os.environ.get("COURSE_EXCHANGE", str(work / "exchange"))
