# Grading and the student bundle (issue 7). Included by the Makefile; see autograder/README.md.
.PHONY: grade grade-deps release

grade: setup grade-deps  ## autograde SUBMISSIONS=<folder or zip> [GRADE_OUT=dir] [SANDBOX_TESTS=a,b]: sandboxed, parallel; grades.csv, feedback, plot
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder or zip> [GRADE_OUT=<dir>]"; exit 2; }
	$(PY) autograder/grade.py "$(SUBMISSIONS)" $(if $(GRADE_OUT),--out "$(GRADE_OUT)") \
	  $(if $(SANDBOX_TESTS),--tests-in-sandbox "$(SANDBOX_TESTS)")

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
