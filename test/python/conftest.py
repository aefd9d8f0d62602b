"""Makes `import gradscope` find the package in python/ and the Gradscope CLI available to the tests.

Run with Debian's interpreter (it has python3-torch): /usr/bin/python3 -m pytest test/python
Without torch the suite fails (it does not skip): CI must run it with torch installed.
"""

import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "python"))

try:
    import torch  # noqa: F401
except ImportError as error:  # a clear one-line reason instead of a collection error per file
    raise SystemExit("test/python needs PyTorch: run it with /usr/bin/python3 (apt-get install python3-torch libopenblas0-pthread); %s" % error)

CLI = os.path.join(REPO, "bin", "gradscope.js")


def gradscope_cli(*args):
    """Runs the Gradscope CLI (built on first use); returns the CompletedProcess."""
    if not os.path.exists(os.path.join(REPO, "dist", "cli.js")):
        subprocess.run(["node", "scripts/build.mjs"], cwd=REPO, check=True)
    return subprocess.run(["node", CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=120)
