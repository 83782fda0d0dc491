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
# assurance, see autograder/README.md. Measured long ago with a perfect submission and the tests in the trusted
# process: 04 9/11, 05 0/5, 06 0/9, 07 2/7, 08 2/6, 10 6/10, 11 2/7, 12 2/5 (TF1 graphs, Keras objects,
# DataFrames and strategies handed to the student's code). Variables, Keras models/layers/optimizers, finite
# datasets and test-defined functions now cross into student calls with their state sent back: 07 is graded in
# the trusted process again (7/7, 2026-12-03), and 08 since compiled models cross with their compile config
# (perfect 6/6, every answer replaced by a function returning None 0/6). TF1 graphs cross as GraphDefs checked
# against an op allow-list (graphwire.py): 06 graded in the trusted process (perfect 9/9, untouched 0/9, 16 wrong
# answers including Python callbacks and file ops in the graph each lose their test's points, 2026-12-03).
# 10 too (its forward_propagation builds a TF1 graph from a placeholder: the graph wire carries it): perfect
# 10/10, untouched 0/10, its 21 wrong answers each 0 on their test (2026-12-03).
# 05 too, its tests rewritten on plain results (op types and devices read from the TF1 graph its functions
# add to; the custom gradient's backward function called with the test's dy): perfect 5/5, untouched 0/5,
# its 12 wrong answers each 0 on their test with their message (2026-12-03).
# 11 too, once DataFrames cross as typed columns and grader_judge.changed_arguments() reports in-place changes:
# perfect 7/7, untouched 0/7, its 13 wrong answers each 0 on their test (2026-12-03).
# 04 too, once the Session.run calls of its functions are recorded in the student process and re-run here against
# the op allow-list (grader_judge.session_runs; 04's check_graph_runs compares the returned value with the re-run):
# perfect 12/12, untouched 0/12, its 24 wrong answers (a forged record and a tf.numpy_function included) each 0 on
# their test (2026-12-03).
# 12 too: a tf.distribute strategy crosses as its description, the model back as config + weights + compile config,
# the scope requirement read from the submitted source (ast), never from the student process: perfect 5/5,
# untouched 0/5, its 12 wrong answers each 0 on their test with their message (2026-12-03).
# One name per line: take a line off once its notebook's perfect submission gets full marks and an untouched one 0
# in trusted mode.
c.CourseGrader.tests_in_sandbox = [
]
