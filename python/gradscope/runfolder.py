"""A Gradscope run folder, written the way Gradscope's own trainer writes it (src/core/runlog).

- ``job.json``: what ran (here: the model summary and the optimizer instead of a job file);
- ``metrics.jsonl``: one JSON object per step, appended in batches;
- ``events.jsonl``: one JSON object per event, appended at once (they are rare and matter most);
- ``summary.json``: written last, through a temporary file and a rename; its presence means the run
  was closed.

Every append is one ``os.write`` of whole lines on an ``O_APPEND`` descriptor, so a crash leaves every
written line readable (at worst the last one cut off, which Gradscope's reader skips). Non-finite
numbers are written as bare ``NaN`` / ``Infinity``, as Python's ``json`` does and Gradscope reads.
"""

import json
import os
import re
import threading
import time
from array import array
from datetime import datetime, timezone

JOB_FILE = "job.json"
METRICS_FILE = "metrics.jsonl"
EVENTS_FILE = "events.jsonl"
SUMMARY_FILE = "summary.json"
CONTROL_FILE = "control.json"


_ROW_ENCODER = json.JSONEncoder(separators=(",", ":"))  # reused: json.dumps builds one per call when given options


def default_run_dir(name, runs_dir=os.path.join(".gradscope", "runs"), now=None):
    """``<runs_dir>/<yyyymmdd-HHMMSS UTC>-<name>``, with ``-2``, ``-3``… when it exists (as the trainer names runs)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    base = os.path.join(runs_dir, "%s-%s" % (stamp, safe_name(name)))
    path, n = base, 2
    while os.path.exists(path):
        path, n = "%s-%d" % (base, n), n + 1
    return path


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "run"


class RunFolder:
    """Writes one run folder. Metric rows wait in memory until ``flush()`` (its owner calls it at
    least every ``poll_interval``: the Monitor flushes at each look at control.json) or until
    ``flush_rows`` wait (default 256). While the loop is elsewhere (an evaluation, a checkpoint), a
    thread started by ``flush_when_idle`` writes the rows that waited: one lock, taken by every
    append, keeps the two from losing or repeating a row.

    ``number_row``: ``(line_format, width)``, the ``%`` format of the usual metrics line and how many
    numbers it takes, for ``append_numbers``. Default: None (only ``append_row``)."""

    def __init__(self, path, job, number_row=None, flush_rows=256):
        if os.path.exists(os.path.join(path, JOB_FILE)):
            raise FileExistsError("%s already holds a Gradscope run (%s); pass another run_dir, or run_dir=None for a new folder" % (path, JOB_FILE))
        os.makedirs(path, exist_ok=True)
        self.path = path
        self.flush_rows = flush_rows
        self._text = []  # whole lines waiting, in order, each ending in a newline
        self._numbers = array("d")  # then the numbers of the number rows appended after them
        self._number_line, self._number_width = (number_row[0] + "\n", number_row[1]) if number_row else ("", 1)
        self.closed = False
        # Re-entrant: a signal handler that closes the run (a preemption's SIGTERM) runs in the thread
        # that may hold the lock, between two bytecodes of a write; that write finishes the close.
        self._lock = threading.RLock()
        self._writing = False
        self._close_after = None
        self._written_at = time.monotonic()
        self._idle_writer = None
        write_atomically(os.path.join(path, JOB_FILE), json.dumps(job, indent=2, default=_jsonable) + "\n")
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        self._metrics = os.open(os.path.join(path, METRICS_FILE), flags, 0o644)
        self._events = os.open(os.path.join(path, EVENTS_FILE), flags, 0o644)

    def flush_when_idle(self, interval):
        """Starts a daemon thread that, every ``interval`` seconds, writes the rows that have waited that
        long: a crash then loses at most the rows of the last ``interval``, wherever the loop is."""
        stopping = threading.Event()
        self._idle_writer = stopping

        def write_waiting_rows():
            while not stopping.wait(interval):
                with self._lock:
                    if self.closed:
                        return
                    if (self._text or self._numbers) and time.monotonic() - self._written_at >= interval:
                        self._flush()

        threading.Thread(target=write_waiting_rows, name="gradscope-rows", daemon=True).start()

    def set_number_row(self, number_row):
        """A new ``number_row`` for the number rows appended from now on (the waiting ones are written first)."""
        with self._lock:
            self._flush()
            self._number_line, self._number_width = number_row[0] + "\n", number_row[1]

    def rewrite_job(self, job):
        """job.json again (the trainable layers changed), replaced whole, as it was written."""
        write_atomically(os.path.join(self.path, JOB_FILE), json.dumps(job, indent=2, default=_jsonable) + "\n")

    def append_row(self, row):
        line = _ROW_ENCODER.encode(row) + "\n"
        with self._lock:
            self._writing = True
            try:
                self._format_numbers()
                self._text.append(line)
            finally:
                self._end_write()
            if len(self._text) >= self.flush_rows:
                self._flush()

    def append_numbers(self, values):
        """Appends a metrics line of the ``number_row`` format with these values (finite numbers).
        They wait in one flat array and every such line of a batch is formatted by one ``%`` when it
        is written: a step pays for no string and leaves no object behind for the collector."""
        with self._lock:
            numbers = self._numbers
            numbers.extend(values)
            if len(numbers) >= self.flush_rows * self._number_width:
                self._flush()

    def append_event(self, event):
        line = (json.dumps(event, separators=(",", ":"), default=_jsonable) + "\n").encode()
        with self._lock:
            self._flush()  # rows before the event's step are on disk when a reader sees the event
            if not self.closed:
                os.write(self._events, line)

    def flush(self):
        with self._lock:
            self._flush()

    def _flush(self):
        if self.closed:
            return
        self._writing = True
        try:
            self._format_numbers()
            if self._text:
                text = "".join(self._text)
                self._text.clear()
                os.write(self._metrics, text.encode())
            self._written_at = time.monotonic()
        finally:
            self._end_write()

    def _end_write(self):
        self._writing = False
        if self._close_after is not None:
            summary, self._close_after = self._close_after, None
            self._close(summary)

    def _format_numbers(self):
        numbers = self._numbers
        if numbers:
            self._text.append(self._number_line * (len(numbers) // self._number_width) % tuple(numbers))
            del numbers[:]

    def close(self, summary):
        """Flushes, closes the files and writes summary.json. Safe to call twice."""
        with self._lock:
            if self.closed:
                return
            if self._writing:
                # Called from a signal handler in the middle of a write: summary.json now (the handler
                # may end the process next), the rest of the close when the write it interrupted ends.
                write_atomically(os.path.join(self.path, SUMMARY_FILE), json.dumps(summary, default=_jsonable) + "\n")
                self._close_after = summary
                return
            self._close(summary)

    def rewrite_summary(self, summary):
        """summary.json again, after close (how the run ended is known only at the script's end)."""
        write_atomically(os.path.join(self.path, SUMMARY_FILE), json.dumps(summary, default=_jsonable) + "\n")

    def _close(self, summary):
        self._flush()
        self.closed = True
        if self._idle_writer:
            self._idle_writer.set()
        os.close(self._metrics)
        os.close(self._events)
        write_atomically(os.path.join(self.path, SUMMARY_FILE), json.dumps(summary, default=_jsonable) + "\n")


def write_atomically(path, text):
    temporary = "%s.%d.tmp" % (path, os.getpid())
    with open(temporary, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _jsonable(value):
    """Hyper-parameters may hold tensors, tuples' cousins or arbitrary objects: numbers stay numbers."""
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return value.item() if value.numel() == 1 else value.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)
