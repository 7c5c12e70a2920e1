#!/usr/bin/env bash
# Runs every test in the solution and ends with one plain line: "N passed, N failed, N skipped".
# Usage: bash build/test.sh [extra dotnet test arguments]
set -uo pipefail
cd "$(dirname "$0")/.."

# Azurite (Azure Storage emulator) for the tests that use Azure storage; pinned by build/azurite/package-lock.json.
# The tests start and stop it themselves on free loopback ports; if it is missing they fail and say so.
azurite_entry=build/azurite/node_modules/azurite/dist/src/azurite.js
if [ ! -f "$azurite_entry" ] || [ build/azurite/package-lock.json -nt build/azurite/node_modules/.package-lock.json ]; then
  echo "installing Azurite into build/azurite (npm ci)"
  npm ci --prefix build/azurite --no-audit --no-fund --loglevel=error \
    || echo "npm ci failed: the tests that need Azurite will fail"
fi

# Debian's Chromium for the dashboard's browser tests (driven by Microsoft.Playwright with this executable; no browser
# download). Installed when missing and the machine lets us (root with apt-get); otherwise those tests fail and say so.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing Debian chromium for the browser tests (apt-get)"
  { apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }; } >/dev/null 2>&1 \
    || echo "installing chromium failed: the browser tests will fail"
fi

log="$(mktemp -t rema-tests-XXXXXX.log)"
trap 'rm -f "$log"' EXIT

dotnet test ReMA.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# One summary line per test assembly, e.g. "Passed!  - Failed: 0, Passed: 50, Skipped: 0, Total: 50, ..."
passed=0; failed=0; skipped=0; assemblies=0
while IFS= read -r line; do
  assemblies=$((assemblies + 1))
  num() { echo "$line" | grep -oE "$1:\s+[0-9]+" | grep -oE '[0-9]+'; }
  passed=$((passed + $(num Passed)))
  failed=$((failed + $(num Failed)))
  skipped=$((skipped + $(num Skipped)))
done < <(grep -E '^(Passed|Failed)!\s+- Failed:' "$log")

expected=$(ls tests/*/*.csproj 2>/dev/null | wc -l)
if [ "$assemblies" -lt "$expected" ]; then
  echo "only $assemblies of $expected test assemblies reported results (build failure or crashed test host; see above)"
  failed=$((failed + expected - assemblies))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $status although no test failed (see above)"
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
