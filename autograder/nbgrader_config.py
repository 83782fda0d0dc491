# nbgrader's configuration for the course. autograder/notebooks.py and the grading pipeline load it;
# they set CourseDirectory.root and db_url themselves so that no gradebook lands in the repository.
c = get_config()  # noqa: F821 (provided by traitlets when the file is loaded)

c.CourseDirectory.course_id = "tf-course"
# One assignment per notebook: solutions/NN_topic/NN_topic.ipynb -> notebooks/NN_topic/NN_topic.ipynb
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
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
# jdoe_1001_2001_00_getting_started.ipynb (a "-1" resubmission suffix on the notebook name is accepted).
c.FileNameCollectorPlugin.named_regexp = (
    r"^(?P<student_id>[A-Za-z0-9.@-]+)_(?:late_|LATE_)?(?:\d+_)+(?P<file_id>\d\d_[A-Za-z0-9_]+(?:-\d+)?\.ipynb)$")
