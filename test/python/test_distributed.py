"""Monitor under torch.distributed: 2 processes, gloo on CPU, DistributedDataParallel.

The processes are started with torch.multiprocessing.spawn: Debian's torchrun (torch 1.13 on Python
3.11) fails inside its own launcher. Each worker writes what it saw to a JSON file for the test.
"""

import gc
import json
import math
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import gradscope
from helpers import batches, mlp, rows, events, write_control

WORLD = 2
STOP_AT = 6


def _in_process_group(rank, workdir, body):
    """A spawned rank: ``body(rank, workdir)`` between init_process_group and destroy_process_group.
    The body's locals (the DDP model above all) are freed when it returns, before the group is
    destroyed: torch 1.13 can hang freeing a DDP model whose process group is gone."""
    dist.init_process_group("gloo", init_method="file://" + os.path.join(workdir, "store"), rank=rank, world_size=WORLD)
    try:
        globals()[body](rank, workdir)
        gc.collect()  # and anything the body left in reference cycles
    finally:
        dist.destroy_process_group()


def _train_and_stop(rank, workdir):
    os.chdir(workdir)  # the default run folder goes under the current directory, on every rank
    model = torch.nn.parallel.DistributedDataParallel(mlp(seed=0))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seen = {"rank": rank, "norms": [], "losses": [], "taken": 0}
    with gradscope.Monitor(model, optimizer, name="ddp", per_rank=True, poll_interval=0) as monitor:
        seen["run_dir"] = monitor.run_dir
        for i, (x, y) in enumerate(batches(30, seed=10 + rank)):  # each rank its own data
            if rank == 0 and i == STOP_AT:
                write_control(monitor.run_dir, {"stop": True})  # as `gradscope control <dir> stop` does
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()  # DDP has all-reduced the gradients here
            seen["norms"].append(torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf).item())
            seen["losses"].append(loss.item())
            if monitor.step(loss):
                optimizer.step()
            seen["taken"] += 1
            if monitor.should_stop:
                break
    with open(os.path.join(workdir, "rank%d.json" % rank), "w") as handle:
        json.dump(seen, handle)


def _spawn(workdir, timeout=120):
    context = mp.spawn(_in_process_group, args=(workdir, "_train_and_stop"), nprocs=WORLD, join=False)
    deadline = time.monotonic() + timeout
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            raise AssertionError("the DDP workers did not finish in %d s" % timeout)


def test_ddp_one_run_folder_synchronised_norm_and_a_stop_that_ends_every_rank(tmp_path):
    workdir = str(tmp_path)
    _spawn(workdir)
    seen = [json.load(open(os.path.join(workdir, "rank%d.json" % rank))) for rank in range(WORLD)]
    runs_root = os.path.join(workdir, ".gradscope", "runs")
    assert len(os.listdir(runs_root)) == 1  # rank 0 writes; the other rank writes nothing
    run_dir = os.path.join(runs_root, os.listdir(runs_root)[0])
    assert seen[0]["run_dir"] == seen[1]["run_dir"] == run_dir
    # The stop written before step STOP_AT ends both ranks after that same step.
    assert seen[0]["taken"] == seen[1]["taken"] == STOP_AT + 1
    recorded = rows(run_dir)
    assert [row["step"] for row in recorded] == list(range(STOP_AT + 1))
    for k, row in enumerate(recorded):
        # The norm of the synchronised gradient: the same on both ranks, and what rank 0 measured.
        assert seen[0]["norms"][k] == seen[1]["norms"][k]
        assert abs(row["gradNorm"] - seen[0]["norms"][k]) <= 1e-5 * seen[0]["norms"][k]
        assert abs(row["loss/rank0"] - seen[0]["losses"][k]) <= 1e-6 * seen[0]["losses"][k]
        assert abs(row["loss/rank1"] - seen[1]["losses"][k]) <= 1e-6 * seen[1]["losses"][k]
        assert abs(row["loss"] - (seen[0]["losses"][k] + seen[1]["losses"][k]) / 2) <= 1e-6 * row["loss"]
    assert [(e["kind"], e["change"], e["step"]) for e in events(run_dir)] == [("control", "stop", STOP_AT)]
    job = json.load(open(os.path.join(run_dir, "job.json")))
    assert job["distributed"] == {"worldSize": 2, "backend": "gloo", "perRank": True}
    assert job["layerNames"] == ["1", "3", "5"]  # DDP's `module.` prefix is not in the names
    assert json.load(open(os.path.join(run_dir, "summary.json")))["status"] == "stopped"


def _pause_then_stop(rank, workdir):
    model = torch.nn.parallel.DistributedDataParallel(mlp(seed=0))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    run_dir = os.path.join(workdir, "run")
    taken = 0
    with gradscope.Monitor(model, optimizer, run_dir=run_dir, poll_interval=0) as monitor:
        for i, (x, y) in enumerate(batches(200, seed=rank)):
            if rank == 0 and i == 2:
                write_control(run_dir, {"pause": True, "lrMultiplier": 0.5})
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            if monitor.step(torch.tensor(1.0)):
                optimizer.step()
            taken += 1
            if monitor.should_stop:
                break
        lr_multiplier = monitor.lr_multiplier
    with open(os.path.join(workdir, "rank%d.json" % rank), "w") as handle:
        json.dump({"taken": taken, "lrMultiplier": lr_multiplier}, handle)


def test_ddp_pause_blocks_every_rank_until_a_stop_releases_them(tmp_path):
    workdir = str(tmp_path)
    run_dir = os.path.join(workdir, "run")
    context = mp.spawn(_in_process_group, args=(workdir, "_pause_then_stop"), nprocs=WORLD, join=False)
    try:
        deadline = time.monotonic() + 120
        while not any(e.get("change") == "pause" for e in events(run_dir)):
            assert time.monotonic() < deadline and not context.join(timeout=0.05), "the run never paused"
        time.sleep(0.5)
        # Paused inside step 2 on both ranks: nothing has finished, and no row past step 1 exists.
        assert not context.join(timeout=0)
        assert [row["step"] for row in rows(run_dir)] == [0, 1]
        write_control(run_dir, {"stop": True})
        while not context.join(timeout=1):
            assert time.monotonic() < deadline, "the stop did not end the ranks"
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
    seen = [json.load(open(os.path.join(workdir, "rank%d.json" % rank))) for rank in range(WORLD)]
    assert seen[0]["taken"] == seen[1]["taken"] == 3
    # Every rank obeys control.json, not only rank 0 (which reads it).
    assert seen[0]["lrMultiplier"] == seen[1]["lrMultiplier"] == 0.5
    assert [row["step"] for row in rows(run_dir)] == [0, 1, 2]
    assert [(e["change"], e["step"]) for e in events(run_dir)] == [("pause", 2), ("lrMultiplier", 2), ("stop", 2)]
