#!/usr/bin/env bash
# Make .venv exist and hold the given requirements file's packages; cheap when nothing changed.
# Usage: scripts/venv.sh [requirements.txt | requirements-dev.txt] (plus requirements-legacy.txt when present)
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

# The legacy Flask door's packages come along while requirements-legacy.txt exists; Phase 8
# deletes that file with src/flask_app, and the next run takes the packages out again (their
# names are kept in the venv), so the virtualenv never serves a door the tree no longer has.
legacy=requirements-legacy.txt
legacy_record="$venv/.legacy-packages"
install_args=(-r "$requirements")
[ -f "$legacy" ] && install_args+=(-r "$legacy")

# The stamp records what was installed; a changed requirements file triggers a new install.
stamp="$venv/.installed-$(basename "$requirements")"
wanted=$( (cat "$requirements" requirements.txt; [ -f "$legacy" ] && cat "$legacy" || echo "no legacy door") \
  | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  if [ -f "$legacy" ]; then
    echo "installing $requirements and $legacy into $venv"
    sed -e 's/#.*//' -e 's/[[<>=!~;, ].*//' "$legacy" | grep -v '^$' > "$legacy_record"
  else
    echo "installing $requirements into $venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${install_args[@]}"
  if [ ! -f "$legacy" ] && [ -s "$legacy_record" ]; then
    echo "removing the legacy door's packages from $venv: $(tr '\n' ' ' < "$legacy_record")"
    # shellcheck disable=SC2046
    "$venv/bin/python" -m pip uninstall --quiet --yes $(cat "$legacy_record")
    rm -f "$legacy_record"
  fi
  echo "$wanted" > "$stamp"
fi
