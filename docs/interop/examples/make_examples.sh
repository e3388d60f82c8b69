#!/usr/bin/env bash
# Regenerate the FHIR, CDISC and OMOP example files of this folder from a 6-patient synthetic
# registry (seed 7): run from the repository root with the package installed (make .venv/.installed-dev).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export LUPUSCELL_ACTOR=docs
db="sqlite:///$work/registry.sqlite"
lupuscell synth --patients 6 --seed 7 --db "$db" >/dev/null
lupuscell export fhir --db "$db" --patient CHI-000004 --identified \
  --reason "documentation example (synthetic patient)" --out "$here/fhir_bundle_one_patient.json" --overwrite
lupuscell export cdisc --db "$db" --study EXAMPLE --out "$here/cdisc" --overwrite
lupuscell export omop --db "$db" --out "$here/omop" --overwrite
