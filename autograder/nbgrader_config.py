# nbgrader's configuration for the course. autograder/notebooks.py and the grading pipeline load it;
# they set CourseDirectory.root and db_url themselves so that no gradebook lands in the repository.
c = get_config()  # noqa: F821 (provided by traitlets when the file is loaded)

c.CourseDirectory.course_id = "tf-course"
# One assignment per notebook: solutions/NN_topic/NN_topic.ipynb -> notebooks/NN_topic/NN_topic.ipynb
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# What a notebook run leaves beside it (08's TensorBoard logs/, checkpoints) is not part of the assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "logs"]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# nbgrader would otherwise write .nbgrader.log into the current folder.
c.NbGrader.logfile = ""

# --- grading (issue 7, autograder/grade.py; also used by a plain `nbgrader autograde`) ---
# nbgrader gives 0 to a test cell with ANY stderr output. Remove the stderr blocks that are warnings from
# TensorFlow/Keras/absl/NumPy/Python so that a correct answer that triggers one still gets its points.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (r"(?i)(warning|warn\b|W0000|I0000|E0000|oneDNN|cuda|tensorflow|keras|absl|"
                           r"computation placer|rebuild TensorFlow|cpu_feature_guard|deprecat)")
# LMS exports (nbgrader zip_collect): Canvas-style names <student>_[late_]<ids>_<notebook>.ipynb, e.g.
# jdoe_1001_2001_00_getting_started.ipynb (a "-1", "-2", ... resubmission suffix on the notebook name is accepted:
# the latest wins). The student part is anything but "_" (Moodle's "Full Name", non-ASCII, a leading dot): ids
# that are not plain folder names are graded in a folder of their own, the row keeps the id (autograder/collect.py).
# Moodle: "Full Name_123456_assignsubmission_file_<notebook>.ipynb", flat or as a folder "Full Name_123456_
# assignsubmission_file_" holding the notebook (collect.py then matches the folder's name joined to the file's).
c.FileNameCollectorPlugin.named_regexp = (
    r"^(?P<student_id>[^_/]+)_(?:late_|LATE_)?(?:\d+_)+(?:assignsubmission_file_)?"
    r"(?P<file_id>\d\d_[A-Za-z0-9_]+(?:-\d+)?\.ipynb)$")
# Assignments whose test cells run inside the student's sandbox (grade.py --tests-in-sandbox adds more): lower
# assurance, see autograder/README.md ("Limits of the design", --tests-in-sandbox). This course needs none: every
# notebook is graded with every check in the trusted process. What made that possible, per kind of object a test
# hands over or gets back, is in the same section's table; tests/test_grading_course.py grades a perfect submission of each notebook
# (full marks) and an untouched one (0) in that mode, and tests/test_wrong_answers.py each notebook's wrong answers.
# Another course may list assignments here, one name per line, while its tests still need the student's objects.
c.CourseGrader.tests_in_sandbox = [
]
