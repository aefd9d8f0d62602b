"""Benchmark, not a test: what gradscope.Monitor costs a PyTorch loop.

The seed MLP (784-128-64-10, Adam, batch 128) on synthetic MNIST-shaped data, one CPU thread. One
model, optimizer and scheduler take three kinds of step, timed side by side:
  plain      zero_grad, forward, backward, optimizer.step, scheduler.step
  plain+item the same plus loss.item() (what a loop that logs its loss does)
  monitor    the issue's loop: plain + monitor.step(loss) writing a run folder, polling control.json
One model for all three, so no kind of step is favoured by where its tensors happen to sit in memory
(two copies of the same model differ by about 0.5% in step time on this machine). Two schedules:
  blocks     each kind runs a block of steps in turn (the order rotating every round), the loop's
             other kinds out of the way as in a real training loop: the headline;
  steps      the kinds take turns step by step (the order rotating every step), so the machine's
             load falls on each alike.
A round's figures are each kind's time for its steps of the round (what a training run pays: the
batched writes of the metrics file included) and its median step. Prints ms/step and each kind's
ratio to plain: the median over rounds of the ratio of their times, its quartiles, and the ratio of
the median steps. Target: monitor / plain <= 1.03.

Run: npm run bench:python   (or /usr/bin/python3 bench/pytorch_monitor.py [--rounds 40] [--steps 100])
"""

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

# One CPU thread, as the report says: torch's own pool is set in main(), but OpenBLAS (which runs
# torch's matrix products here, and numpy's) and OpenMP size theirs when they load. Left to
# themselves they take every core, and OpenBLAS's second thread spins between products on a machine
# of two (several seconds of system time a run, and the noise with it). A value already set wins:
# OPENBLAS_NUM_THREADS=2 npm run bench:python measures that configuration.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import torch  # noqa: E402

import gradscope  # noqa: E402

BATCH = 128


def build():
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100_000)
    return model, optimizer, scheduler


def data(count=16):
    generator = torch.Generator().manual_seed(2)
    return [(torch.rand(BATCH, 1, 28, 28, generator=generator), torch.randint(0, 10, (BATCH,), generator=generator)) for _ in range(count)]


class Loop:
    """The model, optimizer, scheduler and monitor the three kinds of step share."""

    def __init__(self, runs_dir):
        self.model, self.optimizer, self.scheduler = build()
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.monitor = gradscope.Monitor(self.model, self.optimizer, run_dir=os.path.join(runs_dir, "monitor"))
        self.monitor_seconds = []  # monitor.step alone, each monitored step

    def step(self, kind, x, y):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        if kind == "monitor":
            start = time.perf_counter()
            ok = self.monitor.step(loss)
            self.monitor_seconds.append(time.perf_counter() - start)
            if ok:
                self.optimizer.step()
        else:
            self.optimizer.step()
            if kind == "plain+item":
                loss.item()
        self.scheduler.step()


KINDS = ["plain", "plain+item", "monitor"]
SCHEDULES = {
    "blocks": "each kind a block of steps in turn (as in training)",
    "steps": "the kinds taking turns step by step",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="rounds (default 40)")
    parser.add_argument("--steps", type=int, default=100, help="steps of each kind per round (default 100: about 0.1 s, the monitor's interval between two looks at control.json, as in training)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    batches = data()
    runs_dir = tempfile.mkdtemp(prefix="gradscope-bench-")
    try:
        loop = Loop(runs_dir)
        for i in range(60):  # warm-up outside the clock: kernels, Adam's state, the run folder
            loop.step(KINDS[i % len(KINDS)], *batches[i % len(batches)])
        results = {schedule: run_rounds(loop, batches, args.rounds, args.steps, schedule) for schedule in SCHEDULES}
        loop.monitor.close()
    finally:
        shutil.rmtree(runs_dir, ignore_errors=True)
    print("gradscope.Monitor overhead: seed MLP 784-128-64-10, Adam, batch %d, torch %s, %d torch thread, OpenBLAS threads %s, %d rounds x %d steps of each kind, load average %.1f on %d cores"
          % (BATCH, torch.__version__, torch.get_num_threads(), os.environ["OPENBLAS_NUM_THREADS"], args.rounds, args.steps, os.getloadavg()[0], os.cpu_count()))
    for schedule, rounds in results.items():
        print(" %s:" % SCHEDULES[schedule])
        report(rounds)
    ratio = statistics.median(r["monitor"] / r["plain"] for r in results["blocks"])
    print("monitor / plain = %.3f in blocks (target <= 1.03): %s" % (ratio, "met" if ratio <= 1.03 else "NOT met"))


def run_rounds(loop, batches, rounds_count, steps, schedule):
    clock = time.perf_counter
    rounds = []
    for round_index in range(rounds_count):
        times = {kind: [] for kind in KINDS}
        loop.monitor_seconds.clear()
        if schedule == "blocks":
            shift = round_index % len(KINDS)
            for kind in KINDS[shift:] + KINDS[:shift]:
                for i in range(steps):
                    x, y = batches[i % len(batches)]
                    start = clock()
                    loop.step(kind, x, y)
                    times[kind].append(clock() - start)
        else:
            for i in range(steps):
                x, y = batches[i % len(batches)]
                shift = (round_index * steps + i) % len(KINDS)
                for kind in KINDS[shift:] + KINDS[:shift]:
                    start = clock()
                    loop.step(kind, x, y)
                    times[kind].append(clock() - start)
        figures = {kind: math.fsum(t) for kind, t in times.items()}
        figures.update({kind + " median": statistics.median(t) for kind, t in times.items()})
        figures["step()"] = statistics.median(loop.monitor_seconds)
        figures["steps"] = steps
        rounds.append(figures)
    return rounds


def report(rounds):
    for kind in KINDS:
        ms = [r[kind] / r["steps"] * 1000 for r in rounds]
        ratios = [r[kind] / r["plain"] for r in rounds]
        quartiles = statistics.quantiles(ratios, n=4)
        median_steps = statistics.median(r[kind + " median"] / r["plain median"] for r in rounds)
        print("  %-11s %7.3f ms/step (median round; rounds %.3f-%.3f)   / plain: %.3f (quartiles %.3f-%.3f); median steps %.3f"
              % (kind, statistics.median(ms), min(ms), max(ms), statistics.median(ratios), quartiles[0], quartiles[2], median_steps))
    inside = [r["step()"] * 1e6 for r in rounds]
    share = [r["step()"] / r["plain median"] * 100 for r in rounds]
    print("  monitor.step() alone: %.1f us (median; rounds %.1f-%.1f) = %.1f%% of a plain step (rounds %.1f-%.1f%%)"
          % (statistics.median(inside), min(inside), max(inside), statistics.median(share), min(share), max(share)))


if __name__ == "__main__":
    main()
