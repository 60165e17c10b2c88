#!/usr/bin/env bash
# Set up (virtual environment, Python packages, the Nu Html Checker) and run every test.
# Browser tests need Debian's chromium (apt-get install chromium); without it they are skipped,
# and under CI=true they fail with a message saying how to install it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
if [ -f package.json ] && command -v npm >/dev/null; then
  npm install --silent --no-audit --no-fund >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
