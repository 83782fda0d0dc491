# Grading and the student bundle (issue 7). Included by the Makefile; see autograder/README.md.
.PHONY: grade grade-deps release

grade: setup grade-deps  ## autograde SUBMISSIONS=<folder or zip> [GRADE_OUT=dir] [SANDBOX_TESTS=a,b] [SCHEDULER=tcp://HOST:8786]: sandboxed, parallel (on a Dask cluster with SCHEDULER); grades.csv, feedback, plot
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder or zip> [GRADE_OUT=<dir>] [SCHEDULER=tcp://HOST:8786]"; exit 2; }
	$(PY) autograder/grade.py "$(SUBMISSIONS)" $(if $(GRADE_OUT),--out "$(GRADE_OUT)") \
	  $(if $(SANDBOX_TESTS),--tests-in-sandbox "$(SANDBOX_TESTS)") $(if $(SCHEDULER),--scheduler "$(SCHEDULER)")

# One grading worker of a Dask cluster (issue 17), on the machine it runs on: the course's venv, bubblewrap
# checked (autograder/cluster.py says what is missing). WORKER_THREADS: notebooks graded at once (default: cores).
.PHONY: grade-worker
grade-worker: setup grade-deps  ## one grading worker for a Dask cluster: SCHEDULER=tcp://HOST:8786 [WORKER_THREADS=N]
	@test -n "$(SCHEDULER)" || { echo "usage: make grade-worker SCHEDULER=tcp://HOST:8786 [WORKER_THREADS=N]"; exit 2; }
	$(PY) autograder/cluster.py worker "$(SCHEDULER)" $(if $(WORKER_THREADS),--nthreads "$(WORKER_THREADS)")

# bubblewrap is the grading sandbox. CI runs as root on a fresh Debian machine: install it there; elsewhere say how.
grade-deps:  ## install bubblewrap (the grading sandbox) when it is missing
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "bubblewrap is required for grading: sudo apt-get install bubblewrap (or your system's package)"; exit 1; fi; }

release: setup  ## build the student bundle dist/tf-course-student.zip from solutions/ [EXCHANGE=<nbgrader exchange folder>]
	$(PY) autograder/release.py $(if $(EXCHANGE),--exchange "$(EXCHANGE)")

TEST_DEPS += grade-deps

# Similarity report (issue 17). `make grade` does not depend on it.
.PHONY: similarity
similarity: setup  ## similarity report SUBMISSIONS=<folder or zip> [SIMILARITY_OUT=dir]: similarity.html and .csv
	@test -n "$(SUBMISSIONS)" || { echo "usage: make similarity SUBMISSIONS=<folder or zip> [SIMILARITY_OUT=<dir>]"; exit 2; }
	$(PY) autograder/similarity.py "$(SUBMISSIONS)" $(if $(SIMILARITY_OUT),--out "$(SIMILARITY_OUT)")

# Hand grading (issue 13): after `make grade`, grade written answers in the formgrader of GRADE_OUT/work/course,
# then export the final grades (automatic plus manual) from GRADE_OUT's gradebook.
.PHONY: export-grades
export-grades: setup  ## final grades after hand grading GRADE_OUT=<dir of make grade>: final_grades.csv, final_lms_grades.csv
	@test -n "$(GRADE_OUT)" || { echo "usage: make export-grades GRADE_OUT=<the folder make grade wrote>"; exit 2; }
	$(PY) autograder/export_grades.py "$(GRADE_OUT)"
