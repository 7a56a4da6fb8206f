#!/usr/bin/env bash
# The deployment tools, from PyPI, pinned, in a git-ignored virtualenv: cfn-lint (CloudFormation's
# linter, which understands SAM) and the AWS SAM CLI (sam validate --lint, sam deploy). Sourced by
# lint-template.sh and deploy.sh; installs on first use or when a pin changes (needs python3 with
# venv). Both pins support Python 3.9+.
CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
TOOLS_VENV=.stack/deploy-tools-venv

ensure_deploy_tools() {
  if "$TOOLS_VENV/bin/cfn-lint" --version 2>/dev/null | grep -qx "cfn-lint $CFN_LINT_VERSION" &&
    "$TOOLS_VENV/bin/sam" --version 2>/dev/null | grep -q "version $SAM_CLI_VERSION\$"; then
    return 0
  fi
  echo "deploy tools: installing cfn-lint $CFN_LINT_VERSION and aws-sam-cli $SAM_CLI_VERSION into $TOOLS_VENV" >&2
  python3 -m venv "$TOOLS_VENV"
  "$TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION"
}

# No usage data sent from CI or a laptop; a region for the commands that insist on one.
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"
