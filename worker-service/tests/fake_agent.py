#!/usr/bin/env python3
"""A fake coding-agent CLI for the `cli` engine's tests: `fake_agent.py <mode> <prompt>`.

success: writes agent.txt and prints an Aider-style usage line (and the key it was given)
claude:  writes agent.txt and prints a Claude Code JSON result
fail:    says why and exits 3
hang:    starts a child, writes both pids to hang.pids, and sleeps until killed
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

mode, prompt = sys.argv[1], sys.argv[2]
if mode == "success":
    Path("agent.txt").write_text(f"did: {prompt.splitlines()[0]}\n")
    print("Applied edit to agent.txt")
    print(f"key seen: {os.environ.get('FAKE_AGENT_KEY', '(none)')}")
    print("Tokens: 1.5k sent, 250 received. Cost: $0.01 message, $0.02 session.")
elif mode == "claude":
    Path("agent.txt").write_text("from claude\n")
    usage = {"input_tokens": 1200, "output_tokens": 300, "cache_read_input_tokens": 34}
    print(json.dumps({"type": "result", "is_error": False, "result": "Wrote agent.txt",
                      "total_cost_usd": 0.0421, "usage": usage}))  # fmt: skip
elif mode == "fail":
    print("I cannot do that: the tests do not exist")
    sys.exit(3)
elif mode == "hang":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(sys.argv[3]).write_text(f"{os.getpid()} {child.pid}")
    time.sleep(600)
