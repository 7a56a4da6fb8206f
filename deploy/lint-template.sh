#!/usr/bin/env bash
# Lints template.yaml with cfn-lint (CloudFormation's linter; it understands SAM), installed from
# PyPI into a git-ignored virtualenv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h | --help)
    echo "Usage: npm run lint:template"
    echo
    echo "Lints template.yaml with cfn-lint, installed on first use into .stack/cfn-lint-venv"
    echo "(needs python3 with venv). Regenerate the template first with npm run template."
    exit 0
    ;;
  "") ;;
  *)
    echo "lint-template: takes no arguments, got \"$*\" (--help)" >&2
    exit 2
    ;;
esac
venv=.stack/cfn-lint-venv
if [ ! -x "$venv/bin/cfn-lint" ]; then
  echo "lint-template: installing cfn-lint into $venv (first run only)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check cfn-lint
fi
# W1030/W1033: the parameters of the Kafka flavour not chosen default to "", which cfn-lint
# resolves against ARN and host:port patterns; the conditions keep them unused.
"$venv/bin/cfn-lint" --ignore-checks W1030 W1033 -- template.yaml
echo "lint-template: template.yaml passes cfn-lint $("$venv/bin/cfn-lint" --version | cut -d' ' -f2)" >&2
