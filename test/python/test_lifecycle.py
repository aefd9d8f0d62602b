"""What a user meets around the loop: unfreezing layers mid-run, how a run that ends badly is recorded,
rows written while the loop is elsewhere, warnings that name the user's line and do not flood."""

import json
import os
import subprocess
import sys
import time
import warnings

import pytest
import torch

import gradscope
from helpers import batches, events, mlp, rows, write_control

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "python")


def backward(model, x, y):
    model.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    return loss


def test_a_layer_unfrozen_mid_run_is_measured_and_clipped_from_its_next_step(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    for p in model[1].parameters():
        p.requires_grad_(False)  # the first layer frozen, as a fine-tuning starts
    optimizer = torch.optim.SGD([p for p in model.parameters()], lr=0.01)
    expected = []
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, clip=0.05) as monitor:
        for i, (x, y) in enumerate(batches(4)):
            if i == 2:
                for p in model[1].parameters():
                    p.requires_grad_(True)  # gradual unfreezing
            loss = backward(model, x, y)
            trainable = [p for p in model.parameters() if p.requires_grad]
            expected.append(torch.norm(torch.stack([p.grad.norm() for p in trainable])).item())
            assert monitor.step(loss)
            after = torch.norm(torch.stack([p.grad.norm() for p in trainable])).item()
            assert after == pytest.approx(0.05, rel=1e-4), "every trainable gradient clipped, the unfrozen layer's too"
            optimizer.step()
    written = rows(run_dir)
    assert [row["gradNorm"] for row in written] == pytest.approx(expected, rel=1e-5)
    assert [("gradNorm/1" in row) for row in written] == [False, False, True, True]
    job = json.load(open(os.path.join(run_dir, "job.json")))
    assert job["layerNames"] == ["1", "3", "5"]


def test_rows_waiting_while_the_loop_is_elsewhere_are_written_without_another_step(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=0.05) as monitor:
        for x, y in batches(5):
            monitor.step(backward(model, x, y))
            optimizer.step()
        # An evaluation or a checkpoint: no step() for a while. The rows reach the disk all the same.
        deadline = time.monotonic() + 30
        while len(rows(run_dir)) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [row["step"] for row in rows(run_dir)] == [0, 1, 2, 3, 4]
        monitor.step(backward(model, *batches(1)[0]))
    assert [row["step"] for row in rows(run_dir)] == [0, 1, 2, 3, 4, 5], "no row lost or written twice"


ENDINGS = r"""
import sys, torch
sys.path.insert(0, sys.argv[3])
import gradscope
from helpers import batches, mlp
model = mlp()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
monitor = gradscope.Monitor(model, optimizer, run_dir=sys.argv[2])
x, y = batches(1)[0]
monitor.step(torch.nn.functional.cross_entropy(model(x), y))
if sys.argv[1] == "uncaught":
    raise RuntimeError("CUDA out of memory (pretend)")
if sys.argv[1] == "interrupted-finally":
    try:
        raise KeyboardInterrupt
    finally:
        monitor.close()
if sys.argv[1] == "finally-normal":
    try:
        pass
    finally:
        monitor.close()
if sys.argv[1] == "finally-crash":
    try:
        raise RuntimeError("NCCL timeout (pretend)")
    finally:
        monitor.close()
if sys.argv[1] == "early-stopping":
    class EarlyStopping(Exception):
        pass
    try:
        raise EarlyStopping("plateau")
    except EarlyStopping:
        monitor.close()  # a normal end
if sys.argv[1] == "forked-child-exits":
    import os
    pid = os.fork()
    if pid == 0:
        sys.exit(0)  # a worker process forked from the loop ends: its atexit must not end the run
    os.waitpid(pid, 0)
    print("summary after the child:", os.path.exists(sys.argv[2] + "/summary.json"))
    monitor.step(torch.nn.functional.cross_entropy(model(x), y))
    monitor.close()
"""

STALE = r"""
import sys, torch
sys.path.insert(0, sys.argv[2])
try:
    undefined_name  # a typo in an interactive session: Python keeps it as sys.last_value
except NameError as error:
    sys.last_type, sys.last_value = type(error), error
import gradscope
from helpers import batches, mlp
model = mlp()
monitor = gradscope.Monitor(model, torch.optim.SGD(model.parameters(), lr=0.01), run_dir=sys.argv[1])
x, y = batches(1)[0]
monitor.step(torch.nn.functional.cross_entropy(model(x), y))
"""


@pytest.mark.parametrize(
    "how, status, message",
    [
        ("uncaught", "failed", "RuntimeError: CUDA out of memory (pretend)"),
        ("interrupted-finally", "stopped", "interrupted"),
        ("finally-normal", "finished", None),
        ("finally-crash", "failed", "RuntimeError: NCCL timeout (pretend)"),
        ("early-stopping", "finished", None),
        ("forked-child-exits", "finished", None),
        ("left-open", "finished", "closed at interpreter exit (Monitor.close() was not called)"),
    ],
)
def test_a_run_that_ends_without_with_is_recorded_as_it_ended(tmp_path, how, status, message):
    run_dir = str(tmp_path / "run")
    env = dict(os.environ, PYTHONPATH=PACKAGE)
    result = subprocess.run([sys.executable, "-c", ENDINGS, how, run_dir, HERE], env=env, capture_output=True, text=True, timeout=300)
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert (summary["status"], summary.get("message")) == (status, message)
    if how == "forked-child-exits":
        assert "summary after the child: False" in result.stdout, result.stdout + result.stderr
        assert [row["step"] for row in rows(run_dir)] == [0, 1], "the child wrote no row"


def test_an_error_an_interactive_session_printed_before_the_run_does_not_make_it_failed(tmp_path):
    run_dir = str(tmp_path / "run")
    subprocess.run([sys.executable, "-c", STALE, run_dir, HERE], env=dict(os.environ, PYTHONPATH=PACKAGE), capture_output=True, timeout=300)
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert (summary["status"], summary["message"]) == ("finished", "closed at interpreter exit (Monitor.close() was not called)")


PREEMPTED = r"""
import os, signal, sys, torch
sys.path.insert(0, sys.argv[2])
import gradscope
from helpers import batches, mlp
model = mlp()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
monitor = gradscope.Monitor(model, optimizer, run_dir=sys.argv[1], poll_interval=0)

def on_term(signum, frame):  # SLURM's preemption: record the run as stopped, then leave at once
    monitor.close("stopped", "preempted")
    os._exit(0)

signal.signal(signal.SIGTERM, on_term)
folder = monitor._folder
format_numbers = folder._format_numbers

def format_with_a_signal():  # the signal lands while a write holds the run folder's lock
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(10):
        pass
    return format_numbers()

folder._format_numbers = format_with_a_signal
x, y = batches(1)[0]
for _ in range(100):
    monitor.step(torch.nn.functional.cross_entropy(model(x), y))
"""


def test_a_signal_handler_that_closes_the_run_during_a_write_neither_hangs_nor_loses_the_summary(tmp_path):
    run_dir = str(tmp_path / "run")
    result = subprocess.run([sys.executable, "-c", PREEMPTED, run_dir, HERE], env=dict(os.environ, PYTHONPATH=PACKAGE), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert (summary["status"], summary["message"]) == ("stopped", "preempted")


def test_nonfinite_warn_on_weights_gone_nan_says_a_streak_once_in_a_while_at_the_users_line(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = batches(1)[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with gradscope.Monitor(model, optimizer, run_dir=run_dir, nonfinite="warn") as monitor:
            with torch.no_grad():
                model[1].weight[0, 0] = float("nan")  # every later step is non-finite
            for _ in range(1000):
                assert monitor.step(backward(model, x, y))  # this line is where the warnings point
    said = [w for w in caught if "non-finite" in str(w.message)]
    # Steps 1, 2, 3, then the 10th, 100th and 1000th in a row.
    assert len(said) == 6, [str(w.message) for w in said]
    assert "1000 steps in a row" in str(said[-1].message)
    assert {os.path.basename(w.filename) for w in said} == {"test_lifecycle.py"}
    recorded = [e for e in events(run_dir) if e["kind"] == "nonFinite"]
    assert [e.get("streak", 1) for e in recorded] == [1, 2, 3, 10, 100, 1000]
    assert len(rows(run_dir)) == 1000, "every step still has its row"


def test_a_control_file_that_stays_invalid_json_is_said_once_then_a_fixed_one_applies(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = batches(1)[0]
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=0) as monitor:
        with open(os.path.join(run_dir, "control.json"), "w") as handle:
            handle.write('{"stop": tru')  # written by hand
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(5):
                monitor.step(backward(model, x, y))
        said = [str(w.message) for w in caught]
        assert len(said) == 1 and "control.json is not valid JSON" in said[0] and "ignored until it is rewritten" in said[0], said
        assert not monitor.should_stop
        write_control(run_dir, {"stop": True})
        monitor.step(backward(model, x, y))
        assert monitor.should_stop


def test_wrong_losses_and_arguments_say_what_is_wrong(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = batches(1)[0]
    with gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "run")) as monitor:
        for _ in range(3):
            monitor.step(backward(model, x, y))  # the short path is bound by now
        backward(model, x, y)
        with pytest.raises(ValueError, match=r"needs a scalar loss \(got shape \(2,\)\)"):
            monitor.step(torch.tensor([1.0, 2.0]))
        with pytest.raises(TypeError, match="needs the loss, a number or a one-element tensor \\(got NoneType\\)"):
            monitor.step(None)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module \\(got list\\)"):
        gradscope.Monitor([model], optimizer, run_dir=str(tmp_path / "a"))
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer \\(got NoneType\\)"):
        gradscope.Monitor(model, None, run_dir=str(tmp_path / "b"))
    with pytest.raises(TypeError, match="name must be a string or None"):
        gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "c"), name=123)
    with pytest.raises(ValueError, match="poll_interval must be a number of seconds"):
        gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "d"), poll_interval=None)
    assert not any(os.path.exists(str(tmp_path / name)) for name in "abcd"), "no folder left behind by a refused Monitor"


def test_a_step_with_no_gradient_at_all_has_no_norm_not_a_zero_one(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with gradscope.Monitor(model, optimizer, run_dir=run_dir) as monitor:
        assert monitor.step(torch.tensor(2.0))  # before any backward
    (row,) = rows(run_dir)
    assert "gradNorm" not in row and row["loss"] == 2.0


def test_a_resumed_run_numbers_its_steps_on_and_a_validation_loss_joins_its_step(tmp_path):
    from conftest import gradscope_cli

    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, start_step=1000) as monitor:
        for i, (x, y) in enumerate(batches(6)):
            monitor.step(backward(model, x, y))
            optimizer.step()
            if i % 3 == 2:
                monitor.log_validation(torch.tensor(2.5 - i / 10))
        with pytest.raises(TypeError, match="log_validation\\(loss\\) needs a number"):
            monitor.log_validation("low")
    assert [row["step"] for row in rows(run_dir) if "loss" in row] == list(range(1000, 1006))
    validation = [(row["step"], row["validationLoss"]) for row in rows(run_dir) if "validationLoss" in row]
    assert [step for step, _ in validation] == [1002, 1005] and [value for _, value in validation] == pytest.approx([2.3, 2.0])
    summary = json.loads(gradscope_cli("inspect", run_dir, "--json").stdout.strip().split("\n")[-1])
    assert summary["columns"]["validationLoss"] == "validationLoss" and (summary["firstStep"], summary["lastStep"]) == (1000, 1005)
    with pytest.raises(ValueError, match="start_step must be a whole number"):
        gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "bad"), start_step=-1)
