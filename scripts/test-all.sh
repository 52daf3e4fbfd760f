#!/usr/bin/env bash
# Everything CI checks, in one command (`npm test`). Works on a fresh clone: it installs what is
# missing first (root node_modules, then scripts/setup-test-env.sh for the VS Code test harness).
#   typecheck, lint, build, unit tests, the bench scripts once on tiny models (bench:smoke), integration
#   tests in VS Code (runTest.mjs), UI test (ui.mjs), this platform's .vsix (scripts/package.mjs, checked
#   and run by scripts/check-vsix.mjs), and that .vsix installed into a clean code-server profile and used
#   (test/integration/installed.mjs)
# Every step runs even when an earlier one failed; the exit code is non-zero if any failed. Ends with
# a table of the steps and one line `N passed, N failed` over all tests (a failed step that has no
# test count, e.g. lint, counts as one failed).
# Env: VSCODE_EXECUTABLE  run the integration suite in this VS Code instead of the offline harness
#                         (test/harness/code: code-server + headless chromium)
#      ONNXQ_MODELS       shared models folder (default ../shared/models)
#      SKIP_SETUP=1       do not install anything; SKIP_UI=1 skip the UI test
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export FORCE_COLOR=0 NO_COLOR=1
results="$root/test-results"
mkdir -p "$results"
T_ALL=$(date +%s)

steps=()   # "name|status|passed|failed|seconds"
record() { steps+=("$1|$2|$3|$4|$5"); }
hr() { printf '\n==== %s ====\n' "$*"; }

# ---- set-up -------------------------------------------------------------------------------------
if [ "${SKIP_SETUP:-}" != 1 ]; then
  hr "set-up"
  t=$(date +%s); ok=ok
  # Root dependencies: (re)install when node_modules is missing or older than the lock file.
  # onnxruntime-node's postinstall would download CUDA libraries (fails offline); the CPU
  # binaries are in the npm package.
  stamp="node_modules/.onnxqs-installed"
  want="$(sha256sum package-lock.json | cut -c1-16) node-$(node -v)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "node_modules up to date"
  elif [ ! -f "$stamp" ] && [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    echo "node_modules installed by hand and newer than package-lock.json: keeping it"
    echo "$want" > "$stamp"
  else
    echo "npm ci (ONNXRUNTIME_NODE_INSTALL=skip)"
    if ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=warn; then echo "$want" > "$stamp"; else ok=FAIL; fi
  fi
  bash scripts/setup-test-env.sh || ok=FAIL
  record "set-up" "$ok" - - $(( $(date +%s) - t ))
  if [ "$ok" != ok ]; then echo "set-up failed: the steps below will probably fail too"; fi
fi

run_step() { # name command...
  local name="$1"; shift
  hr "$name"
  local t; t=$(date +%s)
  if "$@"; then record "$name" ok - - $(( $(date +%s) - t )); else record "$name" FAIL - - $(( $(date +%s) - t )); fi
}

run_step "typecheck" npm run --silent typecheck
run_step "lint" npm run --silent lint
run_step "build" npm run --silent build

# ---- unit tests (node --test; its own summary lines give the counts) ---------------------------
hr "unit tests"
t=$(date +%s)
npm run --silent test:unit 2>&1 | tee "$results/unit.log"
rc=${PIPESTATUS[0]}
up=$(grep -E '^ℹ pass [0-9]+' "$results/unit.log" | tail -1 | awk '{print $3}')
uf=$(grep -E '^ℹ fail [0-9]+' "$results/unit.log" | tail -1 | awk '{print $3}')
st=ok; [ "$rc" -eq 0 ] || st=FAIL
if [ -z "$up" ]; then up=0; fi
if [ -z "$uf" ]; then uf=0; fi
[ "$st" = FAIL ] && [ "$uf" -eq 0 ] && uf=1
record "unit tests" "$st" "$up" "$uf" $(( $(date +%s) - t ))

# ---- the bench scripts, once each on tiny models (ONNXQ_BENCH_SMOKE=1), so that they cannot rot ------
run_step "bench scripts (smoke)" npm run --silent bench:smoke

# ---- the suites that write their results as JSON ({passed, failed}) ------------------------------
json_count() { # file -> "passed failed" (or nothing)
  node -e 'try { const r = require(process.argv[1]); console.log(`${r.passed} ${r.failed}`); } catch {}' "$1"
}
json_step() { # name results.json command... : runs it and records the counts its results file gives
  local name="$1" file="$2"; shift 2
  local t; t=$(date +%s)
  "$@"
  local rc=$? p f st=ok
  read -r p f <<<"$(json_count "$file")"
  [ "$rc" -eq 0 ] || st=FAIL
  p=${p:-0}; f=${f:-0}
  [ "$st" = FAIL ] && [ "$f" -eq 0 ] && f=1
  record "$name" "$st" "$p" "$f" $(( $(date +%s) - t ))
}

hr "integration tests (VS Code)"
export VSCODE_EXECUTABLE="${VSCODE_EXECUTABLE:-$root/test/harness/code}"
json_step "integration (VS Code)" "$results/integration.json" env ONNXQS_TEST_RESULTS="$results/integration.json" node test/integration/runTest.mjs

# ---- UI test (workbench + webview DOM + screenshots) --------------------------------------------
if [ "${SKIP_UI:-}" != 1 ]; then
  hr "UI test (code-server workbench, screenshots in test-results/screenshots/)"
  json_step "UI (workbench)" "$results/ui.json" node test/integration/ui.mjs
fi

# ---- the platform package of this machine: built, its size and contents checked, and its own CLI run ----
# Last: it rebuilds dist/ for production (no sourcemaps), which the steps above do not want.
hr "package (.vsix for this platform)"
t=$(date +%s)
host="$(node -p 'process.platform + "-" + process.arch')"
vsix="vsix/$(node -p 'require("./package.json").name')-$host-$(node -p 'require("./package.json").version').vsix"
if node scripts/package.mjs --target "$host" 2>&1 | tee "$results/package.log" | tail -3 && node scripts/check-vsix.mjs "$vsix" --run | tee -a "$results/package.log"; then st=ok; else st=FAIL; fi
read -r kp kf <<<"$(grep -E '^package: [0-9]+ passed' "$results/package.log" | tail -1 | awk '{print $2, $4}')"
kp=${kp:-0}; kf=${kf:-0}
[ "$st" = FAIL ] && [ "$kf" -eq 0 ] && kf=1
record "package ($host)" "$st" "$kp" "$kf" $(( $(date +%s) - t ))

# ---- that package installed into a clean code-server profile, used through the workbench ---------
if [ "${SKIP_UI:-}" != 1 ]; then
  hr "installed extension (the .vsix in code-server, no development folder)"
  json_step "installed extension" "$results/installed.json" node test/integration/installed.mjs "$vsix"
fi

# ---- summary ------------------------------------------------------------------------------------
hr "summary"
P=0; F=0; bad=0
printf '%-24s %-6s %8s %8s %8s\n' step status passed failed seconds
for s in "${steps[@]}"; do
  IFS='|' read -r name st p f sec <<<"$s"
  printf '%-24s %-6s %8s %8s %8s\n' "$name" "$st" "$p" "$f" "$sec"
  if [ "$p" != - ]; then P=$((P + p)); F=$((F + f)); elif [ "$st" != ok ]; then F=$((F + 1)); fi
  [ "$st" = ok ] || bad=1
done
echo "total $(( $(date +%s) - T_ALL )) s"
echo "${P} passed, ${F} failed"
exit $bad
