#!/usr/bin/env bash
# Fetch the Kafka broker jars named in pom.xml from Maven Central into dist/libs.
# Idempotent: when dist/libs already holds the jars of this very pom.xml it
# returns at once without touching Maven (or the network).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
libs="$here/dist/libs"
stamp="$libs/.pom.sha256"

want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

command -v java >/dev/null 2>&1 || { echo "fetch.sh: java not found (the broker needs Java 17+)" >&2; exit 3; }
command -v mvn >/dev/null 2>&1 || { echo "fetch.sh: mvn not found (the jars come from Maven Central through Maven)" >&2; exit 3; }

mkdir -p "$here/dist"
# Two callers at once (parallel test workers) must not both write dist/libs.
exec 9>"$here/dist/.fetch.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

# Copy into a fresh directory and swap it in whole, so an interrupted fetch
# never leaves a half-filled dist/libs that looks complete.
staging="$here/dist/libs.partial"
rm -rf "$staging"
if ! mvn -B -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$staging" >"$here/dist/fetch.log" 2>&1; then
  echo "fetch.sh: Maven could not fetch the broker; the end of dist/fetch.log:" >&2
  tail -n 40 "$here/dist/fetch.log" >&2
  exit 1
fi
echo "$want" >"$staging/.pom.sha256"
rm -rf "$libs"
mv "$staging" "$libs"
echo "fetch.sh: $(ls "$libs"/*.jar | wc -l) jars in $libs"
