# The two commands: `make run` and `make test`. Both set everything up first.
.PHONY: run test bootstrap lint messages

bootstrap:
	@bin/bootstrap

run: bootstrap
	@bin/run

test: bootstrap
	@bin/test $(ARGS)

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python manage.py makemigrations --check --dry-run
	.venv/bin/lint-imports --no-logo
	.venv/bin/mypy

messages: bootstrap
	.venv/bin/python manage.py makemessages -l ru --no-obsolete --ignore=.venv --ignore=static --ignore=staticfiles --ignore=tests
	.venv/bin/python manage.py compilemessages --ignore=.venv
