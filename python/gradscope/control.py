"""Live control through ``control.json`` in the run folder.

The editor and ``gradscope control`` write the desired state, atomically (temporary file + rename):
``{"stop": true}``, ``{"pause": true|false}``, ``{"lrMultiplier": 0.5}``, ``{"clipThreshold": 1.0}`` or
``{"clipThreshold": null}``. A key that is absent leaves that setting as it is. The file is looked at
(one ``os.stat``) at most every ``interval`` seconds and read only when its modification time or size
changed.
"""

import json
import os
import time

from ._warn import warn
from .runfolder import CONTROL_FILE


class ControlState:
    """What the run should do. Defaults: running, not paused, LR multiplier 1, clip from the Monitor."""

    __slots__ = ("stop", "pause", "lr_multiplier", "clip")

    def __init__(self, clip=None):
        self.stop = False
        self.pause = False
        self.lr_multiplier = 1.0
        self.clip = clip

    def copy(self):
        other = ControlState(self.clip)
        other.stop, other.pause, other.lr_multiplier = self.stop, self.pause, self.lr_multiplier
        return other

    def changes_from(self, before):
        """(change, value, previous) for each setting that differs from ``before``, in a fixed order."""
        out = []
        if self.pause != before.pause:
            out.append(("pause" if self.pause else "resume", self.pause, before.pause))
        if self.lr_multiplier != before.lr_multiplier:
            out.append(("lrMultiplier", self.lr_multiplier, before.lr_multiplier))
        if self.clip != before.clip:
            out.append(("clipThreshold", self.clip, before.clip))
        if self.stop and not before.stop:
            out.append(("stop", True, False))
        return out


class ControlFile:
    """Polls ``<run_dir>/control.json`` and folds what it says into a ControlState."""

    def __init__(self, run_dir, interval=0.1):
        self.path = os.path.join(run_dir, CONTROL_FILE)
        self.interval = interval
        self.next_poll = 0.0  # time.monotonic() from which ``poll`` looks at the file again
        self._seen = None
        self._unreadable = None  # the signature of a file found not to be JSON at the last look

    def poll(self, state, force=False):
        """Updates ``state`` in place from the file if it changed; cheap when called every step."""
        now = time.monotonic()
        if not force and now < self.next_poll:
            return
        self.next_poll = now + self.interval
        try:
            info = os.stat(self.path)
        except OSError:
            return
        signature = (info.st_mtime_ns, info.st_size, info.st_ino)
        if signature == self._seen:
            return
        try:
            with open(self.path) as handle:
                request = json.load(handle)
        except OSError:
            return
        except ValueError as error:
            # A writer that does not rename may be half-way: the next look sees the whole file. The same
            # file still not JSON at the next look was written that way (by hand): said once, then ignored
            # until it changes.
            if signature == self._unreadable:
                self._seen = signature
                _warn("%s is not valid JSON (%s); ignored until it is rewritten" % (self.path, error))
            self._unreadable = signature
            return
        self._seen = signature
        if not isinstance(request, dict):
            _warn("%s: expected a JSON object, got %s; ignored" % (self.path, type(request).__name__))
            return
        apply_request(request, state, self.path)


def apply_request(request, state, where):
    """Applies the keys of a control request that are valid; warns (one line each) about the others."""
    if "stop" in request:
        if isinstance(request["stop"], bool):
            state.stop = state.stop or request["stop"]
        else:
            _warn("%s: stop must be true or false (got %r); ignored" % (where, request["stop"]))
    if "pause" in request:
        if isinstance(request["pause"], bool):
            state.pause = request["pause"]
        else:
            _warn("%s: pause must be true or false (got %r); ignored" % (where, request["pause"]))
    if "lrMultiplier" in request:
        value = request["lrMultiplier"]
        if _positive_number(value):
            state.lr_multiplier = float(value)
        else:
            _warn("%s: lrMultiplier must be a positive number (got %r); ignored" % (where, value))
    if "clipThreshold" in request:
        value = request["clipThreshold"]
        if value is None or _positive_number(value):
            state.clip = None if value is None else float(value)
        else:
            _warn("%s: clipThreshold must be a positive number or null (got %r); ignored" % (where, value))


def _positive_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 and value != float("inf")


def _warn(message):
    warn("gradscope: " + message)
