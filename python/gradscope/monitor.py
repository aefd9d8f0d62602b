"""Monitor: one call per optimizer step records the step into a Gradscope run folder, guards against
non-finite values, clips, and obeys live control requests."""

import atexit
import json
import math
import os
import platform
import socket
import sys
import time
import types
from datetime import datetime, timezone

import torch

from . import distributed
from ._warn import warn
from .control import ControlFile, ControlState
from .norms import ModuleLayout, NormReader, scale_, unwrap
from .runfolder import RunFolder, default_run_dir

VERSION = "0.1.0"
NONFINITE_MODES = ("skip", "raise", "warn")


class NonFiniteError(FloatingPointError):
    """Raised by ``Monitor.step`` with ``nonfinite="raise"`` when the loss or the gradient norm is NaN or infinite."""


class Monitor:
    """Watches a PyTorch training loop; see the package README.

    Args:
        model: the ``nn.Module`` being trained (a DistributedDataParallel wrapper is fine).
        optimizer: its ``torch.optim.Optimizer``.
        run_dir: the run folder to write. Default: ``.gradscope/runs/<UTC time>-<name>`` under the
            current directory. It must not already hold a run.
        name: the run's name. Default: the script's file name without ``.py`` (else the model's class).
        clip: ``None`` (default: no clipping) or a max global L2 norm, with ``clip_grad_norm_``'s
            semantics. Live control can change it.
        nonfinite: what ``step`` does when the loss or the gradient norm is NaN or infinite:
            ``"skip"`` (default: clears the gradients and returns False), ``"raise"`` (NonFiniteError)
            or ``"warn"`` (records it, warns, returns True).
        per_rank: under torch.distributed, also record each rank's loss as ``loss/rank<k>``. Default: False.
        poll_interval: seconds between two looks at ``control.json`` (0: at every step), and the longest
            a row waits in memory before it is written, wherever the loop is. Default: 0.1.
        start_step: the number of the first step recorded, for a run resumed from a checkpoint (its
            optimizer steps so far). Default: 0.
    """

    def __init__(self, model, optimizer, run_dir=None, name=None, clip=None, nonfinite="skip", per_rank=False, poll_interval=0.1, start_step=0):
        if not isinstance(model, torch.nn.Module):
            raise TypeError("gradscope: model must be a torch.nn.Module (got %s)" % type(model).__name__)
        if not isinstance(getattr(optimizer, "param_groups", None), list):
            raise TypeError("gradscope: optimizer must be a torch.optim.Optimizer (got %s)" % type(optimizer).__name__)
        if name is not None and not isinstance(name, str):
            raise TypeError("gradscope: name must be a string or None (got %r)" % (name,))
        if not (isinstance(poll_interval, (int, float)) and not isinstance(poll_interval, bool) and 0 <= poll_interval < math.inf):
            raise ValueError("gradscope: poll_interval must be a number of seconds, 0 or more (got %r)" % (poll_interval,))
        if not (isinstance(start_step, int) and not isinstance(start_step, bool) and start_step >= 0):
            raise ValueError("gradscope: start_step must be a whole number, 0 or more (got %r)" % (start_step,))
        if nonfinite not in NONFINITE_MODES:
            raise ValueError("gradscope: nonfinite must be one of %s (got %r)" % (", ".join(NONFINITE_MODES), nonfinite))
        if clip is not None and not (isinstance(clip, (int, float)) and not isinstance(clip, bool) and 0 < clip < math.inf):
            raise ValueError("gradscope: clip must be None or a positive number (got %r)" % (clip,))
        self.model = model
        self.optimizer = optimizer
        self.nonfinite = nonfinite
        self.steps = start_step
        # Every parameter, trainable or not, and which are: a layer unfrozen mid-run (gradual
        # unfreezing) is measured and clipped from its next step, as clip_grad_norm_ would.
        self._all_params = list(unwrap(model).parameters())
        self._trainable = [p.requires_grad for p in self._all_params]
        self._use_layout(ModuleLayout(model))
        self._state = ControlState(None if clip is None else float(clip))
        self._poll_interval = poll_interval
        self._sync = distributed.RankSync(per_rank) if distributed.active() else None
        self.rank = self._sync.rank if self._sync else 0
        self._lr_groups_differ = False
        self._lr_scaling = None
        self._last_loss = math.nan
        self._nonfinite_last, self._nonfinite_streak = -2, 0
        self._event_counts = {}
        self._started = time.monotonic()
        self._closed = False
        self.name = name or _default_name(model)
        self._folder = None
        self._control = None
        path, problem = None, None
        if self.rank == 0:
            try:
                path = run_dir or default_run_dir(self.name)
                self._job_record = self._job(clip, per_rank)
                self._folder = RunFolder(path, self._job_record, number_row=self._number_row())
                self._folder.flush_when_idle(max(poll_interval, 0.05))
            except (OSError, ValueError) as error:
                problem = str(error)
        if self._sync:
            path, problem = self._sync.share_path((path, problem))
        if problem:
            raise OSError(problem if problem.startswith("gradscope") else "gradscope: cannot write the run folder: " + problem)
        self.run_dir = os.path.abspath(path)
        if self.rank == 0:
            self._control = ControlFile(self.run_dir, poll_interval)
        self._usual = self._is_usual()
        self._usual_step = None  # see _bind_usual_step
        self._pid = os.getpid()
        # An error an interactive session printed before this run (sys.last_value stays set) did not end it.
        self._uncaught_at_start = _uncaught()
        self._ended_by = None
        self._summary = None
        atexit.register(self._close_at_exit)

    # -- the loop's calls --------------------------------------------------------------------------

    def step(self, loss):
        """Records this step; returns False when the update must be skipped (a non-finite loss or
        gradient with ``nonfinite="skip"``). Blocks here while the run is paused."""
        usual_step = self._usual_step
        if usual_step is not None and usual_step(loss):
            return True
        if self._closed:
            raise RuntimeError("gradscope: Monitor.step() after close()")
        # Every poll_interval (rank 0): control.json is looked at before the step, the rows written after it.
        tick = self._control is not None and time.monotonic() >= self._control.next_poll
        if tick:
            self._poll_control()
        if self._usual and isinstance(loss, torch.Tensor):
            # The usual step, in as little Python as it takes: in a training loop every bytecode costs
            # two to three times what it costs hot, torch's kernels having evicted the interpreter's caches.
            norms = self._norms.quick()
            if norms is not None:
                total, module_norms = norms
                try:
                    loss_value = loss.item()
                except (RuntimeError, ValueError):
                    loss_value = None  # not one element: the general path says so
                groups = self.optimizer.param_groups
                lr = float(groups[0]["lr"]) if len(groups) == 1 else math.nan
                if loss_value is not None and math.isfinite(loss_value) and math.isfinite(total) and math.isfinite(lr):
                    step = self.steps
                    self._folder.append_numbers((step, lr, loss_value, total, *module_norms))
                    if tick:
                        self._folder.flush()
                    self.steps = step + 1
                    self._last_loss = loss_value
                    self._usual_step = self._bind_usual_step()
                    return True
        return self._step(loss, tick)

    def _step(self, loss, tick):
        """``step`` for any step: clipping, an LR multiplier, a pause, several param groups, non-finite
        values, ranks. ``tick``: this step looked at control.json, and writes the rows after it."""
        step = self.steps
        if isinstance(loss, torch.Tensor):
            loss_tensor = loss
        else:
            try:
                loss_tensor = torch.tensor(float(loss))
            except (TypeError, ValueError):
                raise TypeError("gradscope: step(loss) needs the loss, a number or a one-element tensor (got %s)" % type(loss).__name__) from None
        if loss_tensor.numel() != 1:
            raise ValueError("gradscope: step(loss) needs a scalar loss (got shape %s)" % (tuple(loss_tensor.shape),))
        if self._sync is not None or self._state.clip is not None:
            self._check_layout()  # the set clipped, and the all_reduce's shape on every rank, must be exact at once
        before = None  # the state before the ranks agree on it
        rank_losses = None
        quick = None if self._sync else self._norms.quick()
        if quick is not None:
            total, module_norms = quick
            loss_value = loss_tensor.item()
            grads = None  # read below only to clip
        else:
            grads = self._norms.grads()
            if self._sync:
                before = self._state.copy()
                reduced = self._sync.agree_step(self._state, loss_tensor)
                squares, _ = self._norms.read(grads, [loss_tensor])
                self._state, loss_value, rank_losses = self._sync.decode_step(reduced.tolist(), self._state)
            else:
                squares, (loss_value,) = self._norms.read(grads, [loss_tensor])
            total, module_norms = self._norms.reduce(squares)
        if before is not None:
            self._record_changes(before, step)
        if self._state.pause and not self._state.stop:
            self._wait_while_paused(step)
        if self._state.lr_multiplier != 1.0 and self._lr_scaling is None:
            self._lr_scaling = _LrScaling(self.optimizer, self._lr_multiplier)
        if grads is not None and not grads:
            total = None  # no parameter has a gradient (step() before backward?): no norm, not a zero norm
        finite = math.isfinite(loss_value) and (total is None or math.isfinite(total))
        groups = self.optimizer.param_groups
        multiplier = self._state.lr_multiplier
        lr = float(groups[0]["lr"]) * multiplier
        clip = self._state.clip
        row = {"step": step, "lr": lr, "loss": loss_value}
        if total is not None:
            row["gradNorm"] = total
        if clip is not None and total is not None:
            coefficient = clip / (total + 1e-6) if finite else 1.0
            if coefficient < 1.0:
                scale_(grads if grads is not None else self._norms.grads(), coefficient)
            row["clippedNorm"] = total * min(coefficient, 1.0)
        for key, value in zip(self._row_keys, module_norms):
            if value is not None:
                row[key] = value
        lrs = [float(group["lr"]) * multiplier for group in groups]
        if len(lrs) > 1 and (self._lr_groups_differ or any(other != lr for other in lrs)):
            self._lr_groups_differ = True  # once the groups differ, every row has their columns
            for index in range(1, len(lrs)):
                row["lr/group%d" % index] = lrs[index]
        if rank_losses is not None:
            for index, value in enumerate(rank_losses):
                row["loss/rank%d" % index] = value
        if self._folder:
            self._folder.append_row(row)
        if tick and self._folder:
            self._folder.flush()
        self.steps += 1
        self._last_loss = loss_value
        self._usual = self._is_usual()
        self._usual_step = None  # bound again by the next usual step
        return True if finite else self._on_nonfinite(step, loss_value, total, module_norms)

    def log_validation(self, loss):
        """Records a validation (evaluation) loss at the last step recorded, as the panel charts it next
        to the training loss and checks it for spikes. Under torch.distributed, rank 0's value is the
        one written: reduce it across ranks first if each rank evaluates a shard."""
        if self._closed:
            raise RuntimeError("gradscope: Monitor.log_validation() after close()")
        try:
            value = float(loss.detach().reshape(())) if isinstance(loss, torch.Tensor) else float(loss)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError("gradscope: log_validation(loss) needs a number or a one-element tensor (got %s)" % type(loss).__name__) from None
        if self._folder:
            self._folder.append_row({"step": max(self.steps - 1, 0), "validationLoss": value})

    @property
    def should_stop(self):
        """True once a stop was asked (control.json, the editor or ``gradscope control``); the same on every rank."""
        return self._state.stop

    @property
    def lr_multiplier(self):
        """The live LR multiplier applied on top of the scheduler (1 unless changed through control.json)."""
        return self._state.lr_multiplier

    @property
    def clip(self):
        """The clip threshold in force (None: no clipping)."""
        return self._state.clip

    def close(self, status=None, message=None):
        """Flushes and writes summary.json. ``status``: finished (default), stopped (default after a
        stop request or Ctrl-C) or failed. Called with no status while an exception is being handled
        (``finally:`` or ``except:``), the run is recorded as it ended: failed if that exception then
        ends the script, as a crash does, and not if the script handled it (early stopping). Safe to
        call twice; does nothing in a forked child."""
        if self._closed or os.getpid() != self._pid:
            return
        handling = sys.exc_info()[1] if status is None else None
        ending, text = _ending_of(handling, message)
        if ending == "stopped":  # Ctrl-C, propagating or handled: the user stopped it
            status, message = ending, text
        elif ending == "failed":
            # Propagating (a crash) or handled (early stopping)? Only the end of the script can tell.
            self._ended_by = handling
            atexit.register(self._amend_at_exit)
        self._closed = True
        self._usual, self._usual_step = False, None
        atexit.unregister(self._close_at_exit)
        if self._lr_scaling:
            self._lr_scaling.remove()
        if self._folder:
            summary = {
                "status": status or ("stopped" if self.should_stop else "finished"),
                "steps": self.steps,
                "finalLoss": self._last_loss,
                "eventCounts": dict(self._event_counts),
                "durationMs": round((time.monotonic() - self._started) * 1000),
                "backend": "pytorch",
            }
            if message:
                summary["message"] = message
            self._summary = summary
            self._folder.close(summary)

    def _amend_at_exit(self):
        # close() ran while an exception was handled: if that exception is what ended the script, the run failed.
        if self._summary is not None and self._ended_by is not None and _uncaught() is self._ended_by:
            status, message = _ending_of(self._ended_by, None)
            self._folder.rewrite_summary(dict(self._summary, status=status, message=message))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(*_ending_of(exc, None))
        return False

    # -- inside ----------------------------------------------------------------------------------

    def _use_layout(self, layout):
        """Measures the parameters of ``layout`` from now on: its norm reader, row columns and row format."""
        self._layout = layout
        self._norms = NormReader(layout)
        self._row_keys = ["gradNorm/" + name for name in layout.names]
        # The short path's row: the loss and the norms (float32 values) with 9 significant digits, which
        # round-trip float32 (TensorBoard keeps its scalars as float32) at half the cost of repr; the LR,
        # a Python float, exactly.
        self._row_format = "{%s}" % ",".join(['"step":%d', '"lr":%r', '"loss":%.9g', '"gradNorm":%.9g'] + [json.dumps(key).replace("%", "%%") + ":%.9g" for key in self._row_keys])
        self._usual_step = None

    def _number_row(self):
        return (self._row_format, 4 + len(self._row_keys))

    def _check_layout(self):
        """Follows a change of which parameters are trainable (a layer frozen or unfrozen mid-run): the
        next rows measure, and clipping scales, the trainable parameters of now, as clip_grad_norm_ over
        ``model.parameters()`` would. One pass over the ``requires_grad`` flags: at each look at
        control.json, and at every step that clips or runs under torch.distributed."""
        trainable = [p.requires_grad for p in self._all_params]
        if trainable == self._trainable:
            return
        self._trainable = trainable
        try:
            layout = ModuleLayout(self.model)
        except ValueError:
            return  # nothing trainable left (an evaluation phase?): keep measuring what was
        if self._folder:
            self._folder.flush()  # rows of the old columns, in their format
        self._use_layout(layout)
        if self._folder:
            self._folder.set_number_row(self._number_row())
            self._job_record["layerNames"] = list(layout.names)
            self._job_record["model"]["trainableParameters"] = sum(layout.counts)
            self._job_record["model"]["modules"] = [{"name": n, "type": t, "parameters": c} for n, t, c in zip(layout.names, layout.types, layout.counts)]
            self._folder.rewrite_job(self._job_record)

    def _is_usual(self):
        """Whether the next step can take ``step``'s short path: one process writing the run folder,
        open, not paused, no clip and no LR multiplier. Only ``_step`` and ``close`` change these."""
        state = self._state
        return self._sync is None and self._folder is not None and not self._closed and state.clip is None and state.lr_multiplier == 1.0 and not state.pause

    def _lr_multiplier(self):
        return 1.0 if self._closed else self._state.lr_multiplier

    def _wait_while_paused(self, step):
        if self._folder:
            self._folder.flush()
        while self._state.pause and not self._state.stop:
            time.sleep(max(self._poll_interval, 0.05))  # no busy loop (nor a flood of all_reduces) while paused
            before = self._state.copy()
            if self._control:
                self._control.poll(self._state, force=True)
            if self._sync:
                self._state = self._sync.agree_control(self._state)
            self._record_changes(before, step)

    def _bind_usual_step(self):
        """``step`` for the usual step, with everything it reads bound here once (see
        NormReader.bound_reader): after backward the loop's caches hold none of the objects it would
        otherwise go through, and each costs a miss. It returns False, and ``step`` goes on as for
        any step, at the next look at control.json and for anything not usual (a replaced gradient,
        a non-finite value, several param groups). Dropped at every change of state, and bound again
        by the next usual step."""
        read_norms = self._norms.bound_reader()
        if read_norms is None or not self._usual:
            return None
        monitor, optimizer, control, folder = self, self.optimizer, self._control, self._folder
        monotonic, isfinite, sqrt, tensor = time.monotonic, math.isfinite, math.sqrt, torch.Tensor

        def usual_step(loss):
            # optimizer.param_groups is read each time: load_state_dict replaces the list.
            groups = optimizer.param_groups
            if monotonic() >= control.next_poll or not isinstance(loss, tensor) or len(groups) != 1:
                return False
            norms = read_norms()
            if norms is None:
                return False
            total, module_norms = norms
            try:
                loss_value = loss.item()
            except (RuntimeError, ValueError):
                return False
            lr = float(groups[0]["lr"])
            if not (isfinite(total) and isfinite(loss_value) and isfinite(lr)):
                return False  # the general path writes NaN and Infinity as json does; the number row cannot
            step = monitor.steps
            folder.append_numbers((step, lr, loss_value, sqrt(total), *module_norms))
            monitor.steps = step + 1
            monitor._last_loss = loss_value
            return True

        return usual_step

    def _poll_control(self):
        """Folds what control.json asks into the state, records each change as an event at this step,
        and says whether the usual steps can go on (``_usual``)."""
        before = self._state.copy()
        self._control.poll(self._state)
        self._record_changes(before, self.steps)
        self._check_layout()
        self._usual, self._usual_step = self._is_usual(), None

    def _record_changes(self, before, step):
        for change, value, previous in self._state.changes_from(before):
            self._event({"kind": "control", "step": step, "change": change, "value": value, "previous": previous})

    def _on_nonfinite(self, step, loss, total, module_norms):
        fields = [field for field, value in (("loss", loss), ("gradNorm", total)) if value is not None and not math.isfinite(value)]
        layers = [name for name, value in zip(self._layout.names, module_norms) if value is not None and not math.isfinite(value)]
        # Steps in a row that are not finite (weights gone NaN under "warn" make every later step so):
        # the first three are recorded and warned, then the 10th, 100th… of the streak, with its length.
        streak = self._nonfinite_streak + 1 if step == self._nonfinite_last + 1 else 1
        self._nonfinite_last, self._nonfinite_streak = step, streak
        said = streak <= 3 or _power_of_ten(streak)
        what = "non-finite %s (loss %r, gradient norm %r)" % (", ".join(fields), loss, total)
        if said:
            event = {"kind": "nonFinite", "step": step, "fields": fields + (["layerGradNorm"] if layers else []), "loss": loss, "gradNorm": total}
            if layers:
                event["layers"] = layers
            if streak > 1:
                event["streak"] = streak
            self._event(event)
            action = {"skip": "skip", "raise": "stop", "warn": "warn"}[self.nonfinite]
            self._event({"kind": "guard", "step": step, "action": action, "cause": "nonFinite"})
        if self.nonfinite == "raise":
            raise NonFiniteError("gradscope: step %d: %s" % (step, what))
        if self.nonfinite == "warn":
            if said:
                in_a_row = "" if streak == 1 else " (%d steps in a row%s)" % (streak, "; the next are said at 10, 100, 1000… in a row" if streak == 3 else "")
                warn("gradscope: step %d: %s%s; the update is not skipped (nonfinite='warn')" % (step, what, in_a_row))
            return True
        # Nothing non-finite may reach the weights, even if the caller steps anyway: no gradient, no update.
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                p.grad = None
        for p in self._layout.params:
            p.grad = None
        return False

    def _event(self, event):
        self._event_counts[event["kind"]] = self._event_counts.get(event["kind"], 0) + 1
        if self._folder:
            self._folder.append_event(event)

    def _job(self, clip, per_rank):
        model = unwrap(self.model)
        layout = self._layout
        groups = []
        for group in self.optimizer.param_groups:
            hyper = {key: value for key, value in group.items() if key != "params"}
            hyper["parameters"] = sum(p.numel() for p in group["params"])
            groups.append(hyper)
        return {
            "name": self.name,
            "source": "gradscope-python",
            "gradscopePython": VERSION,
            "framework": {"name": "pytorch", "torch": torch.__version__, "python": platform.python_version()},
            "model": {
                "class": type(model).__name__,
                "parameters": sum(p.numel() for p in model.parameters()),
                "trainableParameters": sum(layout.counts),
                "modules": [{"name": n, "type": t, "parameters": c} for n, t, c in zip(layout.names, layout.types, layout.counts)],
            },
            "optimizer": {"type": type(self.optimizer).__name__, "paramGroups": groups},
            "clip": clip,
            "nonfinite": self.nonfinite,
            "distributed": {"worldSize": self._sync.world_size, "backend": self._sync.backend, "perRank": per_rank} if self._sync else None,
            "layerNames": list(layout.names),
            "control": "control.json",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            **_process_identity(),
            "cwd": os.getcwd(),
            "command": list(sys.argv),
            "startedAt": datetime.now(timezone.utc).isoformat(),
        }

    def _close_at_exit(self):
        # The loop ended without close(): keep what was recorded, and say how it ended as far as known.
        # An uncaught exception (Ctrl-C included) ended the script when Python kept it for sys.last_value.
        if os.getpid() != self._pid:
            return  # a forked child (a DataLoader worker) exiting: not the end of the run
        ended = _uncaught()
        status, message = _ending_of(ended if ended is not self._uncaught_at_start else None, None)
        self.close(status, message or "closed at interpreter exit (Monitor.close() was not called)")


def _process_identity():
    """What tells this process from another with the same pid, on Linux: its PID namespace (a container
    has its own pids) and its start time in clock ticks since boot (a pid is reused after it ends)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return {}
    try:
        with open("/proc/self/stat") as handle:
            stat = handle.read()
        return {"pidNamespace": namespace, "processStart": stat[stat.rindex(")") + 2 :].split()[19]}
    except (OSError, ValueError, IndexError):
        return {"pidNamespace": namespace}


def _uncaught():
    """The exception that ended the script, once Python has printed it (None before, or if none did)."""
    return getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)


def _ending_of(error, message):
    """``(status, message)`` for a run ended by ``error`` (None: ended normally, status decided by close)."""
    if error is None or (isinstance(error, SystemExit) and error.code in (None, 0)):
        return None, message
    if isinstance(error, KeyboardInterrupt):
        return "stopped", message or "interrupted"
    return "failed", message or "%s: %s" % (type(error).__name__, error)


def _power_of_ten(n):
    while n % 10 == 0:
        n //= 10
    return n == 1


class _LrScaling:
    """Applies the live LR multiplier only for the duration of ``optimizer.step()``, so a scheduler
    that computes the next rate from the current one (StepLR, CosineAnnealingLR…) never sees it.
    Uses the optimizer's step hooks where torch has them (2.0+), else wraps this optimizer's step."""

    def __init__(self, optimizer, multiplier):
        self.optimizer = optimizer
        self.multiplier = multiplier
        self._saved = None
        self._handles = []
        self._original = None
        if hasattr(optimizer, "register_step_pre_hook"):
            self._handles = [
                optimizer.register_step_pre_hook(lambda *_: self.scale()),
                optimizer.register_step_post_hook(lambda *_: self.restore()),
            ]
            return
        self._original = original = optimizer.step
        scaling = self

        def step(_optimizer, *args, **kwargs):
            scaling.scale()
            try:
                return original(*args, **kwargs)
            finally:
                scaling.restore()

        # A bound method, so a scheduler created later can still wrap it (it needs __self__/__func__).
        self._wrapper = types.MethodType(step, optimizer)
        optimizer.step = self._wrapper

    def scale(self):
        factor = self.multiplier()
        if factor == 1.0:
            return
        self._saved = [group["lr"] for group in self.optimizer.param_groups]
        for group, lr in zip(self.optimizer.param_groups, self._saved):
            group["lr"] = lr * factor

    def restore(self):
        if self._saved is None:
            return
        for group, lr in zip(self.optimizer.param_groups, self._saved):
            group["lr"] = lr
        self._saved = None

    def remove(self):
        for handle in self._handles:
            handle.remove()
        if self._original is not None and self.optimizer.__dict__.get("step") is self._wrapper:
            self.optimizer.step = self._original
        # Otherwise a scheduler wrapped the wrapper; it stays, and scales by 1 once the monitor is closed.


def _default_name(model):
    script = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-", "-c", "-m") else ""
    stem = os.path.splitext(os.path.basename(script))[0]
    return stem or type(unwrap(model)).__name__
