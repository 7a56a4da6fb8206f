#!/usr/bin/env bash
# Deploys what the working tree holds, never a stale build: regenerates template.yaml, bundles the
# functions afresh (npm run build), then runs `sam deploy` (pinned, deploy/tools.sh) with the
# arguments given, e.g. `npm run deploy -- --guided` the first time; later runs read samconfig.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h | --help)
    echo "Usage: npm run deploy [-- SAM_DEPLOY_ARGS...]"
    echo
    echo "npm run template, npm run build, then sam deploy --template-file template.yaml with the"
    echo "arguments given (first time: npm run deploy -- --guided). See README, \"Deploy\"."
    exit 0
    ;;
esac
# shellcheck source=deploy/tools.sh
source deploy/tools.sh
ensure_deploy_tools
npm run --silent template
npm run --silent build
"$TOOLS_VENV/bin/sam" deploy --template-file template.yaml "$@"
