#!/usr/bin/env bash
# Runs every test in the solution and ends with one plain line: "N passed, N failed, N skipped".
# Usage: bash build/test.sh [extra dotnet test arguments]
set -uo pipefail
cd "$(dirname "$0")/.."

results="$(mktemp -d -t rema-tests-XXXXXX)"
trap 'rm -rf "$results"' EXIT

dotnet test ReMA.sln -c Release --logger "trx" --results-directory "$results" "$@"
status=$?

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done

if [ "$files" -eq 0 ]; then
  echo "no test results were produced (build or test host failure; see above)"
  failed=$((failed + 1))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $status although no test failed (see above)"
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
