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
