"""Monitor in one process: what it records, how it guards and clips, and how it obeys control.json."""

import json
import math
import os
import statistics
import threading

import pytest
import torch

import gradscope
from conftest import gradscope_cli
from helpers import batches, events, mlp, rows, write_control


def train(monitor, model, optimizer, data, scheduler=None, before_step=None):
    """The issue's loop; ``before_step(i)`` runs before each monitor.step. Returns the steps taken."""
    taken = 0
    for i, (x, y) in enumerate(data):
        if before_step:
            before_step(i)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if monitor.step(loss):
            optimizer.step()
        if scheduler:
            scheduler.step()
        taken += 1
        if monitor.should_stop:
            break
    return taken


def test_rows_hold_the_norms_clip_grad_norm_computes(tmp_path, monkeypatch):
    from gradscope import norms

    general_reads = []
    read = norms.NormReader.read
    monkeypatch.setattr(norms.NormReader, "read", lambda self, *args: general_reads.append(1) or read(self, *args))
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    expected = []
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, name="norms") as monitor:
        for x, y in batches(8):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            per_param = {name: p.grad.norm().item() for name, p in model.named_parameters()}
            total = torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf).item()  # inf: measures, clips nothing
            expected.append((loss.item(), optimizer.param_groups[0]["lr"], total, per_param))
            assert monitor.step(loss)
            optimizer.step()
            scheduler.step()
    recorded = rows(run_dir)
    assert len(general_reads) == 1, "after the first step, the gradients' kept views are read (NormReader.quick)"
    assert [row["step"] for row in recorded] == list(range(8))
    for row, (loss, lr, total, per_param) in zip(recorded, expected):
        assert row["loss"] == pytest.approx(loss, rel=1e-6)
        assert row["lr"] == pytest.approx(lr, rel=1e-12)
        assert row["gradNorm"] == pytest.approx(total, rel=1e-5)
        # One column per parameterised module (Sequential indices 1, 3, 5): its weight and bias together.
        assert sorted(k for k in row if k.startswith("gradNorm/")) == ["gradNorm/1", "gradNorm/3", "gradNorm/5"]
        for module in ("1", "3", "5"):
            own = math.sqrt(per_param[module + ".weight"] ** 2 + per_param[module + ".bias"] ** 2)
            assert row["gradNorm/" + module] == pytest.approx(own, rel=1e-5)
        assert "clippedNorm" not in row  # no clip asked
    job = json.load(open(os.path.join(run_dir, "job.json")))
    assert job["name"] == "norms" and job["model"]["parameters"] == 109386
    assert job["optimizer"]["type"] == "Adam" and job["optimizer"]["paramGroups"][0]["betas"] == [0.9, 0.999]
    assert [m["name"] for m in job["model"]["modules"]] == ["1", "3", "5"]
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert summary["status"] == "finished" and summary["steps"] == 8


@pytest.mark.parametrize("set_to_none", [False, True], ids=["grads-kept", "grads-replaced"])
def test_the_short_path_records_what_the_general_path_would(tmp_path, monkeypatch, set_to_none):
    """Monitor.step's short path (no control tick, no clip, one param group, finite values) takes
    every step after the first, whether the loop keeps its gradients (torch 1.x's zero_grad) or
    replaces them (torch 2's), and its rows hold the float32 loss exactly and the LR to the last digit."""
    from gradscope.monitor import Monitor

    general = []
    general_step = Monitor._step
    monkeypatch.setattr(Monitor, "_step", lambda self, *args: general.append(self.steps) or general_step(self, *args))
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=7)
    expected = []
    # poll_interval: no look at control.json after the first step's, however slow the machine
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=3600) as monitor:
        for x, y in batches(6):
            optimizer.zero_grad(set_to_none=set_to_none)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            total = torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf).item()
            expected.append((loss.item(), optimizer.param_groups[0]["lr"], total, model[5].weight.grad.norm().item()))
            assert monitor.step(loss)
            optimizer.step()
            scheduler.step()
        # From the third step on, the short path bound to the gradients' views (kept, or made per step) runs.
        assert monitor._usual_step is not None
    assert general == [0], "the first step looks at control.json; the others take the short path"
    recorded = rows(run_dir)
    assert len(recorded) == 6
    for row, (loss, lr, total, last_weight) in zip(recorded, expected):
        assert row["lr"] == lr  # exactly
        assert numpy_float32(row["loss"]) == numpy_float32(loss)  # 9 digits round-trip float32
        assert row["gradNorm"] == pytest.approx(total, rel=1e-5)
        assert row["gradNorm/5"] >= last_weight * (1 - 1e-6)


@pytest.mark.parametrize("clip", [None, 0.5], ids=["short-path", "general-path"])
def test_a_slow_loops_row_is_on_disk_when_its_step_returns(tmp_path, clip):
    """Rows are written at each look at control.json (every poll_interval); a loop slower than that
    has each row on disk, for the editor to draw, as soon as its step returns."""
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, clip=clip, poll_interval=0.0) as monitor:
        for i, (x, y) in enumerate(batches(4)):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            assert monitor.step(loss)
            assert [row["step"] for row in rows(run_dir)] == list(range(i + 1))
            optimizer.step()


def test_a_float64_model_takes_the_general_path(tmp_path):
    """Its values are read through one float32 stack (as TensorBoard keeps scalars), in the general path."""
    model, run_dir = mlp().double(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    expected = []
    with gradscope.Monitor(model, optimizer, run_dir=run_dir) as monitor:
        for x, y in batches(3):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x.double()), y)
            loss.backward()
            expected.append((loss.item(), torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf).item()))
            assert monitor.step(loss)
            optimizer.step()
    for row, (loss, total) in zip(rows(run_dir), expected):
        assert row["loss"] == numpy_float32(loss)
        assert row["gradNorm"] == pytest.approx(total, rel=1e-6)


def numpy_float32(value):
    return torch.tensor(value, dtype=torch.float32).item()


def test_clip_scales_the_gradients_as_clip_grad_norm_does(tmp_path):
    model, reference = mlp(), mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = batches(1)[0]
    for m in (model, reference):
        torch.nn.functional.cross_entropy(m(x), y).backward()
    expected_total = torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.05).item()
    with gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "run"), clip=0.05) as monitor:
        assert monitor.step(torch.nn.functional.cross_entropy(model(x), y))
    for p, q in zip(model.parameters(), reference.parameters()):
        assert torch.allclose(p.grad, q.grad, rtol=1e-5, atol=1e-9)
    row = rows(str(tmp_path / "run"))[0]
    assert row["gradNorm"] == pytest.approx(expected_total, rel=1e-5)
    assert row["clippedNorm"] == pytest.approx(0.05, rel=1e-4)


def test_an_lr_jump_is_flagged_by_gradscope_inspect_at_the_step_the_norm_jumps(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    jump = 40

    def raise_lr(i):
        if i == jump:
            for group in optimizer.param_groups:
                group["lr"] = 20.0

    with gradscope.Monitor(model, optimizer, run_dir=run_dir) as monitor:
        train(monitor, model, optimizer, batches(jump + 4), before_step=raise_lr)
    norms = [row["gradNorm"] for row in rows(run_dir)]
    # The first step whose norm is far above the norms before it: the jump's update shows in the next gradient.
    first_jump = next(k for k in range(8, len(norms)) if norms[k] > 5 * statistics.median(norms[max(0, k - 50):k]))
    assert jump < first_jump <= jump + 2
    result = gradscope_cli("inspect", run_dir, "--json")
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    flagged = [line for line in lines if line["type"] == "event"]
    summary = next(line for line in lines if line["type"] == "summary")
    assert summary["format"] == "Gradscope run folder" and summary["columns"]["gradNorm"] == "gradNorm"
    explosions = [event["step"] for event in flagged if event["kind"] == "explosion"]
    assert explosions and explosions[0] == first_jump
    assert all(event["step"] >= first_jump for event in flagged)


def test_a_nan_loss_is_skipped_and_the_weights_stay_finite(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    results = []
    with gradscope.Monitor(model, optimizer, run_dir=run_dir) as monitor:
        for i, (x, y) in enumerate(batches(6)):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            if i == 3:
                loss = loss * float("nan")
            loss.backward()
            ok = monitor.step(loss)
            results.append(ok)
            optimizer.step()  # even a loop that ignores the answer cannot push NaN into the weights
        # The skip cleared the gradients, so the next backward made new ones; two steps later the
        # short path bound to their views is back.
        assert monitor._usual_step is not None
    assert results == [True, True, True, False, True, True]
    assert all(torch.isfinite(p).all() for p in model.parameters())
    recorded = rows(run_dir)
    assert math.isnan(recorded[3]["loss"]) and math.isnan(recorded[3]["gradNorm"])
    kinds = [(event["kind"], event["step"]) for event in events(run_dir)]
    assert kinds == [("nonFinite", 3), ("guard", 3)]
    assert events(run_dir)[1]["action"] == "skip"
    assert json.load(open(os.path.join(run_dir, "summary.json")))["eventCounts"] == {"nonFinite": 1, "guard": 1}


def test_gradients_whose_memory_is_swapped_are_read_again(tmp_path):
    """model.double() (Module._apply: grad.data = …) keeps each gradient object and swaps its memory:
    a view kept from before must not be read, neither for the norm nor for the non-finite guard."""
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    data = batches(6)
    truth = []
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=3600) as monitor:
        for i, (x, y) in enumerate(data):
            if i == 3:
                model.double()
            optimizer.zero_grad()  # torch 1.13: the same gradient objects
            loss = torch.nn.functional.cross_entropy(model(x.to(next(model.parameters()).dtype)), y)
            loss.backward()
            if i == 5:
                for p in model.parameters():
                    p.grad.fill_(math.nan)
            truth.append(torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf).item())
            assert monitor.step(loss) == (i != 5)
            optimizer.step()
    assert all(torch.isfinite(p).all() for p in model.parameters())
    recorded = rows(run_dir)
    assert [row["gradNorm"] == pytest.approx(total, rel=1e-6) for row, total in zip(recorded[:5], truth)] == [True] * 5
    assert math.isnan(recorded[5]["gradNorm"])


def test_a_nan_learning_rate_is_written_as_json_reads_it(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=3600) as monitor:
        train(monitor, model, optimizer, batches(5), before_step=lambda i: i == 3 and optimizer.param_groups[0].update(lr=math.nan))
    recorded = rows(run_dir)  # json.loads reads NaN, not nan
    assert [math.isnan(row["lr"]) for row in recorded] == [False, False, False, True, True]


def test_nonfinite_raise_and_warn(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = batches(1)[0]
    with pytest.raises(gradscope.NonFiniteError, match="step 0: non-finite loss"):
        with gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "raise"), nonfinite="raise") as monitor:
            (torch.nn.functional.cross_entropy(model(x), y) * float("inf")).backward()
            monitor.step(torch.tensor(float("inf")))
    assert json.load(open(str(tmp_path / "raise" / "summary.json")))["status"] == "failed"
    optimizer.zero_grad()
    with gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "warn"), nonfinite="warn") as monitor:
        torch.nn.functional.cross_entropy(model(x), y).backward()
        with pytest.warns(RuntimeWarning, match="not skipped"):
            assert monitor.step(torch.tensor(float("nan")))
    assert events(str(tmp_path / "warn"))[1]["action"] == "warn"


def test_bad_arguments_are_one_line_errors(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="nonfinite must be one of skip, raise, warn"):
        gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "a"), nonfinite="ignore")
    with pytest.raises(ValueError, match="clip must be None or a positive number"):
        gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "b"), clip=-1)
    gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "c")).close()
    with pytest.raises(OSError, match="already holds a Gradscope run"):
        gradscope.Monitor(model, optimizer, run_dir=str(tmp_path / "c"))


def test_default_run_folder_is_under_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = mlp()
    with gradscope.Monitor(model, torch.optim.SGD(model.parameters(), lr=0.1), name="my run") as monitor:
        pass
    assert os.path.dirname(monitor.run_dir) == str(tmp_path / ".gradscope" / "runs")
    assert os.path.basename(monitor.run_dir).endswith("-my_run")


def test_control_changes_lr_and_clip_and_stops_the_loop(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.9)  # chainable: computes from the current lr
    requests = {3: {"lrMultiplier": 0.5}, 5: {"clipThreshold": 0.01}, 7: {"clipThreshold": None}, 9: {"stop": True}}
    deltas = {}
    first_layer = model[1]  # its weight and bias are what gradNorm/1 measures

    def control(i):
        if i in requests:
            write_control(run_dir, requests[i])
        deltas[i] = torch.cat([first_layer.weight.detach().flatten(), first_layer.bias.detach()])

    # poll_interval=0: every step looks at the file, so each request lands at a known step.
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=0) as monitor:
        taken = train(monitor, model, optimizer, batches(30), scheduler=scheduler, before_step=control)
    assert taken == 10 and monitor.should_stop
    recorded = rows(run_dir)
    assert len(recorded) == 10
    for row in recorded:
        scheduled = 0.1 * 0.9 ** row["step"]  # the scheduler never sees the multiplier
        assert row["lr"] == pytest.approx(scheduled * (0.5 if row["step"] >= 3 else 1), rel=1e-9)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.9 ** 10, rel=1e-9)
    # The update really used the multiplied rate: SGD moves the weights by lr × gradient.
    step3_update = (deltas[4] - deltas[3]).norm().item()
    assert step3_update == pytest.approx(0.1 * 0.9 ** 3 * 0.5 * recorded[3]["gradNorm/1"], rel=1e-4)
    assert all("clippedNorm" not in row for row in recorded[:5])
    assert all(row["clippedNorm"] == pytest.approx(0.01, rel=1e-3) for row in recorded[5:7])
    assert all(row["gradNorm"] > 0.01 for row in recorded[5:7])
    assert all("clippedNorm" not in row for row in recorded[7:])
    changes = [(e["step"], e["change"], e["value"]) for e in events(run_dir) if e["kind"] == "control"]
    assert changes == [(3, "lrMultiplier", 0.5), (5, "clipThreshold", 0.01), (7, "clipThreshold", None), (9, "stop", True)]
    assert json.load(open(os.path.join(run_dir, "summary.json")))["status"] == "stopped"


def test_pause_blocks_inside_step_until_resumed(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = batches(1)[0]
    monitor = gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=0.01)
    write_control(run_dir, {"pause": True})
    torch.nn.functional.cross_entropy(model(x), y).backward()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (monitor.step(torch.tensor(1.0)), done.set()))
    worker.start()
    # Paused: no row is written until resume, however long we wait for one.
    assert not done.wait(0.5)
    assert rows(run_dir) == []
    write_control(run_dir, {"pause": False})
    worker.join(10)
    assert done.is_set()
    monitor.close()
    assert [(e["change"], e["step"]) for e in events(run_dir)] == [("pause", 0), ("resume", 0)]
    assert len(rows(run_dir)) == 1


def test_bad_control_requests_warn_and_change_nothing(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = batches(1)[0]
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=0) as monitor:
        write_control(run_dir, {"lrMultiplier": -2, "clipThreshold": "big"})
        torch.nn.functional.cross_entropy(model(x), y).backward()
        with pytest.warns(RuntimeWarning, match="lrMultiplier must be a positive number"):
            monitor.step(torch.tensor(1.0))
        assert monitor.lr_multiplier == 1.0 and monitor.clip is None


def test_gradscope_control_from_the_cli_steers_the_loop(tmp_path):
    model, run_dir = mlp(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def steer(i):
        if i == 2:
            result = gradscope_cli("control", run_dir, "lr=0.5", "clip=2")
            assert result.returncode == 0, result.stderr
        if i == 4:
            assert gradscope_cli("control", run_dir, "stop").returncode == 0

    with gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=0) as monitor:
        taken = train(monitor, model, optimizer, batches(20), before_step=steer)
    assert taken == 5 and monitor.lr_multiplier == 0.5 and monitor.clip == 2.0
    assert [row["lr"] for row in rows(run_dir)] == [0.1, 0.1, 0.05, 0.05, 0.05]
    result = gradscope_cli("control", run_dir, "resume")
    assert result.returncode == 2 and "the run has ended" in result.stderr


class TwoHeads(torch.nn.Module):
    """A shared encoder, a head used only sometimes, and an output layer tied to the input embedding."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.embed = torch.nn.Embedding(50, 16)
        self.encoder = torch.nn.Linear(16, 16)
        self.rare = torch.nn.Linear(16, 16)
        self.out = torch.nn.Linear(16, 50, bias=False)
        self.out.weight = self.embed.weight  # tied: counted once, for the first module that owns it

    def forward(self, tokens, use_rare):
        h = torch.relu(self.encoder(self.embed(tokens)))
        return self.out(self.rare(h) if use_rare else h)


@pytest.mark.parametrize("path", ["fast", "no-numpy", "fallback"])
def test_shared_and_unused_parameters_and_the_fallback_path(tmp_path, monkeypatch, path):
    if path == "no-numpy":  # torch.dot into one buffer instead of numpy.vdot on views
        from gradscope import norms

        monkeypatch.setattr(norms, "_np", None)
    if path == "fallback":  # no _foreach_norm and no dot: one norm per gradient, as before torch 1.13
        from gradscope import norms

        monkeypatch.setattr(norms, "_HAS_FOREACH_NORM", False)
        monkeypatch.setattr(norms, "_DOT_MIN_NUMEL", {"cpu": 10**12})
    model, run_dir = TwoHeads(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    tokens = torch.randint(0, 50, (8, 5))
    totals = []
    with gradscope.Monitor(model, optimizer, run_dir=run_dir) as monitor:
        for use_rare in (False, True, False):
            optimizer.zero_grad(set_to_none=True)
            logits = model(tokens, use_rare)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 50), tokens.reshape(-1))
            loss.backward()
            totals.append(torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf).item())
            embed = model.embed.weight.grad.norm().item()
            assert monitor.step(loss)
            optimizer.step()
    recorded = rows(run_dir)
    assert [row["gradNorm"] == pytest.approx(total, rel=1e-5) for row, total in zip(recorded, totals)] == [True] * 3
    # No gradient is not a zero gradient: the unused head has no column in the steps it was not used.
    assert ["gradNorm/rare" in row for row in recorded] == [False, True, False]
    assert "gradNorm/out" not in recorded[0]  # its only parameter is the embedding's
    assert recorded[2]["gradNorm/embed"] == pytest.approx(embed, rel=1e-5)


CRASHING_LOOP = """
import os, signal, sys, time, torch, gradscope
sys.path.insert(0, sys.argv[2])
from helpers import batches, mlp
model = mlp()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
monitor = gradscope.Monitor(model, optimizer, run_dir=sys.argv[1])
for i, (x, y) in enumerate(batches(400)):
    if i == 300:
        os.kill(os.getpid(), signal.SIGKILL)  # a hard crash: no close(), no atexit
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    if monitor.step(loss):
        optimizer.step()
    time.sleep(0.001)
"""


def test_a_hard_crash_leaves_a_readable_log_missing_at_most_the_last_batch(tmp_path):
    import subprocess
    import sys

    run_dir = str(tmp_path / "run")
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(os.path.dirname(here)), "python"))
    result = subprocess.run([sys.executable, "-c", CRASHING_LOOP, run_dir, here], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == -9, result.stderr
    assert not os.path.exists(os.path.join(run_dir, "summary.json"))
    with open(os.path.join(run_dir, "metrics.jsonl")) as handle:
        text = handle.read()
    assert text.endswith("\n")  # whole lines only: each batch is one write
    steps = [json.loads(line)["step"] for line in text.splitlines()]
    # A prefix of the steps; what is lost is the batch of the last 100 ms at most (steps take >= 1 ms).
    assert steps == list(range(len(steps))) and 300 - 100 <= len(steps) <= 300
    inspected = gradscope_cli("inspect", run_dir, "--json")
    assert inspected.returncode in (0, 1), inspected.stderr
    # Its process is gone (job.json's pid, namespace and start time): nothing would read a control request.
    refused = gradscope_cli("control", run_dir, "stop")
    assert refused.returncode == 2 and "ended without writing summary.json" in refused.stderr, refused.stderr


class OddModule(torch.nn.Module):
    """A transposed (non-contiguous) parameter, and module names that JSON and %-formatting must escape."""

    def __init__(self):
        super().__init__()
        self.heads = torch.nn.ModuleDict({'50%"off"': torch.nn.Linear(6, 4), "ünï": torch.nn.Linear(4, 2)})
        self.scale = torch.nn.Parameter(torch.randn(6, 3).t())  # shape (3, 6), column-major

    def forward(self, x):
        return self.heads["ünï"](torch.tanh(self.heads['50%"off"'](x @ self.scale)))


def test_non_contiguous_gradients_and_names_needing_escapes(tmp_path):
    model, run_dir = OddModule(), str(tmp_path / "run")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(5, 3)
    totals = []
    with gradscope.Monitor(model, optimizer, run_dir=run_dir) as monitor:
        for _ in range(3):
            optimizer.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            totals.append(torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf).item())
            scale_norm = model.scale.grad.norm().item()
            assert monitor.step(loss)
            optimizer.step()
    recorded = rows(run_dir)
    assert [row["gradNorm"] == pytest.approx(total, rel=1e-5) for row, total in zip(recorded, totals)] == [True] * 3
    assert sorted(k for k in recorded[0] if k.startswith("gradNorm/")) == ['gradNorm/OddModule', 'gradNorm/heads.50%"off"', "gradNorm/heads.ünï"]
    assert recorded[2]["gradNorm/OddModule"] == pytest.approx(scale_norm, rel=1e-5)
