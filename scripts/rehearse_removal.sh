#!/usr/bin/env bash
# Phase 8 rehearsed: a copy of the tree (git ls-files) with src/flask_app and
# requirements-legacy.txt deleted, nothing else changed, must build, check and serve on its own:
#   1. a fresh virtualenv from requirements*.txt, where `import flask` fails;
#   2. lint-imports (the contracts hold without the package);
#   3. `make test` there: the whole tests/api suite on both prefixes (/api by FastAPI through the
#      cutover rewrite), every suite that does not concern Flask, SQLite then PostgreSQL;
#   4. the README's run command on free ports: /api/health and /api/v2/health answer with
#      `X-Served-By: fastapi`, the log says once that the legacy door is absent, and
#      `phase side-by-side` refuses and changes nothing.
# Usage: scripts/rehearse_removal.sh (`make rehearse-removal`; .ci/run calls it). KEEP=1 keeps the copy.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/rehearse-removal.XXXXXX")
tree="$work/tree"
run_pid=""
cleanup() {
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -INT -- "-$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
step() { printf '\n--- rehearse-removal: %s\n' "$1"; }
fail() { echo "rehearse-removal FAILED: $1" >&2; exit 1; }

step "copy of the tree without src/flask_app and requirements-legacy.txt ($tree)"
mkdir -p "$tree"
# The working tree's versions of the tracked files (uncommitted edits included, like a commit would).
git ls-files -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$tree"
rm -rf "$tree/src/flask_app" "$tree/requirements-legacy.txt"
[ ! -e "$tree/src/flask_app" ] && [ ! -e "$tree/requirements-legacy.txt" ] || fail "the deletion did not happen"

step "fresh virtualenv"
# pip takes wheels from its cache (or PIP_FIND_LINKS) when they are there, so this stays quick.
(cd "$tree" && VENV=.venv scripts/venv.sh requirements-dev.txt)
py="$tree/.venv/bin/python"
if "$py" -c 'import flask' 2>/dev/null; then fail "flask is importable in the fresh virtualenv"; fi
echo "import flask fails in $tree/.venv, as it must"

step "lint-imports"
(cd "$tree" && .venv/bin/lint-imports)

step "tests/api collects the same cases on both prefixes"
collected=$(cd "$tree" && env -u TEST_DATABASE_URL .venv/bin/python -m pytest --collect-only -q -p no:cacheprovider tests/api)
legacy_cases=$(grep -cE '[[-]/api[]-]' <<<"$collected" || true)
v2_cases=$(grep -cE '[[-]/api/v2[]-]' <<<"$collected" || true)
echo "/api: $legacy_cases cases, /api/v2: $v2_cases cases"
[ "$legacy_cases" -gt 0 ] && [ "$legacy_cases" = "$v2_cases" ] || fail "tests/api does not run on both prefixes alike"

step "make test (the legacy door's tests are deselected)"
(cd "$tree" && make --no-print-directory test VENV=.venv)

step "the run command on free ports"
ports=$("$py" -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
read -r http_port fastapi_port flask_port <<<"$ports"
log="$work/run.log"
# The defaults, as a new user has them: no SCHEDULER_HOST, a database and nginx prefix of its own.
serve_env=(env -u SCHEDULER_HOST -u TEST_DATABASE_URL HTTP_PORT="$http_port" FASTAPI_PORT="$fastapi_port"
  FLASK_PORT="$flask_port" DATABASE_URL="sqlite:///$work/run.db" NGINX_PREFIX="$work/nginx" PYTHONUNBUFFERED=1)
# A session of its own (the subshell execs setsid in place), so the whole group gets the Ctrl-C below.
(cd "$tree" && exec setsid "${serve_env[@]}" scripts/run.sh >"$log" 2>&1 < /dev/null) &
run_pid=$!
"$py" - "$http_port" <<'EOF' || { cat "$log"; fail "the run command did not serve both prefixes from FastAPI"; }
import sys, time
import httpx

base = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 90
pending = ["/api/health", "/api/v2/health"]
while pending and time.monotonic() < deadline:
    try:
        response = httpx.get(base + pending[0], timeout=2)
        if response.status_code == 200:
            served_by = response.headers.get("X-Served-By")
            assert served_by == "fastapi", f"{pending[0]} served by {served_by!r}"
            print(f"{pending[0]}: 200, X-Served-By: {served_by}")
            pending.pop(0)
            continue
    except httpx.HTTPError:
        pass
    time.sleep(0.2)
assert not pending, f"no answer on {pending}"
EOF
absent=$(grep -c 'the legacy door is absent' "$log" || true)
[ "$absent" = 1 ] || { cat "$log"; fail "the log says $absent times (not once) that the legacy door is absent"; }
grep -q '\[flask\]' "$log" && { cat "$log"; fail "a Flask process was started"; }

step "phase side-by-side refuses and changes nothing"
before=$(cd "$tree" && "${serve_env[@]}" .venv/bin/python -m src.cli phase show)
if refusal=$(cd "$tree" && "${serve_env[@]}" .venv/bin/python -m src.cli phase side-by-side --force 2>&1); then
  fail "phase side-by-side succeeded without the legacy door"
fi
echo "$refusal"
grep -q 'legacy Flask door' <<<"$refusal" || fail "the refusal does not say why"
after=$(cd "$tree" && "${serve_env[@]}" .venv/bin/python -m src.cli phase show)
# The lease's expiry moves with every heartbeat; the rest must be identical.
[ "$(grep -v 'lease expires' <<<"$before")" = "$(grep -v 'lease expires' <<<"$after")" ] \
  || fail "phase show changed after the refused switch"
echo "$after"

step "Ctrl-C stops it"
kill -INT -- "-$run_pid"
wait "$run_pid" || true
run_pid=""
grep -q '\[serve\] stopped' "$log" || { cat "$log"; fail "serve did not stop cleanly"; }

step "passed: the tree without the legacy door builds, checks, tests and serves"
