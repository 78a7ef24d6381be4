#!/usr/bin/env bash
# Make .venv exist and hold the given requirements file's packages; cheap when nothing changed.
# Usage: scripts/venv.sh [requirements.txt | requirements-dev.txt]
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=${1:-requirements.txt}
venv=${VENV:-.venv}

pick_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  python=$(pick_python)
  echo "creating $venv with $python"
  "$python" -m venv "$venv"
fi

# The stamp records what was installed; a changed requirements file triggers a new install.
stamp="$venv/.installed-$(basename "$requirements")"
wanted=$(cat "$requirements" requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "installing $requirements into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" > "$stamp"
fi
