#!/usr/bin/env bash
# Prints the import arrows between the top-level parts (functions/*, layers/*,
# lib/*, tools/* count one level deeper), with how many import statements make
# each: `npm run arrows`. Relative imports only; packages are not parts.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.ts' '*.cjs' | xargs grep -oE "from \"\.\.?/[^\"]+\"" | awk -F'[:"]' '{
  cmd = "realpath -m --relative-to=. $(dirname \"" $1 "\")/" $3; cmd | getline t; close(cmd)
  split($1, a, "/"); split(t, b, "/")
  s = (a[1] ~ /^(functions|layers|lib|tools)$/) ? a[1] "/" a[2] : a[1]
  d = (b[1] ~ /^(functions|layers|lib|tools)$/) ? b[1] "/" b[2] : b[1]
  if (s != d) print s " -> " d
}' | sort | uniq -c
