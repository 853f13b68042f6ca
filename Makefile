# Thin aliases for tasks.py (which needs only Python) for those who prefer make.
.PHONY: plan test lint plans docs bench
plan:
	python3 tasks.py plan $(STACK)
test:
	python3 tasks.py test
lint:
	python3 tasks.py lint
plans:
	python3 tasks.py plans
docs:
	python3 tasks.py docs
bench:
	python3 tasks.py bench
