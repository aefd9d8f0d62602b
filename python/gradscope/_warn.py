"""Warnings that point at the user's code (the loop's ``monitor.step(...)`` line), not into this package."""

import sys
import warnings


def warn(message, category=RuntimeWarning):
    """``warnings.warn`` with the first caller outside the ``gradscope`` package as its location, however
    deep inside the package the warning is raised (Python 3.12's ``skip_file_prefixes``, by hand)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "gradscope":
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
