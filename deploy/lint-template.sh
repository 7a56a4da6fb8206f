#!/usr/bin/env bash
# Lints template.yaml with cfn-lint and `sam validate --lint`, nothing switched off. Both come
# pinned from PyPI into a git-ignored virtualenv (deploy/tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h | --help)
    echo "Usage: npm run lint:template"
    echo
    echo "Lints template.yaml with cfn-lint and sam validate --lint, installed on first use into"
    echo ".stack/deploy-tools-venv (needs python3 with venv). Regenerate the template first with"
    echo "npm run template."
    exit 0
    ;;
  "") ;;
  *)
    echo "lint-template: takes no arguments, got \"$*\" (--help)" >&2
    exit 2
    ;;
esac
# shellcheck source=deploy/tools.sh
source deploy/tools.sh
ensure_deploy_tools
# template.yaml, and the template of a trigger that sets every field (deploy/every-field-example.ts),
# so the properties the project's own trigger leaves unset are linted too.
every_field=.stack/template-every-field.yaml
npx tsx deploy/every-field-example.ts "$every_field"
for t in template.yaml "$every_field"; do
  "$TOOLS_VENV/bin/cfn-lint" -- "$t"
  "$TOOLS_VENV/bin/sam" validate --lint --template-file "$t" >&2
done
echo "lint-template: template.yaml (and $every_field) pass cfn-lint $CFN_LINT_VERSION and sam validate --lint (SAM CLI $SAM_CLI_VERSION)" >&2
