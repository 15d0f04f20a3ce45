#!/usr/bin/env bash
# help-to-reference.sh BINARY: puts BINARY --help into REFERENCE.md's
# "Command line" block (tests/integration/cli.rs checks that they are the same).
set -euo pipefail
help=$("$1" --help)
HELP="$help" python3 - <<'PY'
import os, re
path = "REFERENCE.md"
text = open(path).read()
head, rest = text.split("## Command line\n", 1)
before, block_and_after = rest.split("```\n", 1)
_, after = block_and_after.split("\n```", 1)
open(path, "w").write(head + "## Command line\n" + before + "```\n" + os.environ["HELP"] + "\n```" + after)
PY
