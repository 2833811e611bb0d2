#!/usr/bin/env bash
# Nightly ivtfarm run for any scheduler (cron, Jenkins, GitLab, Buildkite): install, run, keep
# the run directory, compare with a stored baseline, exit non-zero on failure (see docs/ci.md).
#
#   SCENARIO=scenarios/soak.yaml BASELINE=baselines/soak.summary.json ARCHIVE=/srv/ivtfarm-runs \
#     docs/examples/nightly.sh
set -uo pipefail
cd "$(dirname "$0")/../.."

SCENARIO=${SCENARIO:-scenarios/soak.yaml}
BASELINE=${BASELINE:-baselines/$(basename "$SCENARIO" .yaml).summary.json}
TOLERANCES=${TOLERANCES:-docs/examples/tolerances.yaml}
OUT=${OUT:-reports}
ARCHIVE=${ARCHIVE:-}          # where run directories are kept (empty: leave them in $OUT)

npm ci --no-audit --no-fund || exit 1
npm run build || exit 1

args=(run "$SCENARIO" --out "$OUT" --quiet)
if [ -f "$BASELINE" ]; then
  args+=(--baseline "$BASELINE" --tolerances "$TOLERANCES")
else
  echo "no baseline at $BASELINE: running without comparison" >&2
fi
node dist/src/cli.js "${args[@]}"
code=$?

run_dir=$(ls -td "$OUT"/*/ 2>/dev/null | head -1)
if [ -n "$run_dir" ]; then
  # A crashed run has no report yet: build it from what is on disk.
  [ -f "$run_dir/report.html" ] || node dist/src/cli.js report "$run_dir"
  if [ -n "$ARCHIVE" ]; then
    mkdir -p "$ARCHIVE" && cp -r "$run_dir" "$ARCHIVE/" && echo "kept $ARCHIVE/$(basename "$run_dir")"
  fi
  echo "report: $run_dir/report.html"
fi

case "$code" in
  0) echo "nightly: passed" ;;
  99) echo "nightly: FAILED — thresholds or run checks failed" >&2 ;;
  98) echo "nightly: FAILED — regression against $BASELINE" >&2 ;;
  97) echo "nightly: FAILED — a worker crashed, devices were lost" >&2 ;;
  105) echo "nightly: interrupted" >&2 ;;
  3) echo "nightly: FAILED — preflight: the target is unreachable or refused the credentials" >&2 ;;
  *) echo "nightly: ivtfarm exited with $code" >&2 ;;
esac
exit "$code"
