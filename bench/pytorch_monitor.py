"""Benchmark, not a test: what gradscope.Monitor costs a PyTorch loop.

The seed MLP (784-128-64-10, Adam, batch 128) on synthetic MNIST-shaped data, one CPU thread. Three
loops, timed side by side:
  plain      zero_grad, forward, backward, optimizer.step, scheduler.step
  plain+item the same plus loss.item() (what a loop that logs its loss does)
  monitor    the issue's loop: plain + monitor.step(loss) writing a run folder, polling control.json
Each step is timed; a round's figure is the median step time of each loop. Two schedules, both run
and printed:
  blocks     each loop runs a block of steps in turn (the order rotates every round), so its model
             stays in the caches as in a real training loop: the headline figure;
  steps      the loops advance together, one step each in turn (the order rotates every step): the
             machine's load falls on each alike, but every step starts with another model's weights,
             gradients and Adam state (about 2 MB each) in the caches.
Prints ms/step and each loop's ratio to plain (median over rounds, and the range), and the mean
step's ratio too (the median step never holds the batched write of the metrics file).
Target: monitor / plain <= 1.03.

Run: npm run bench:python   (or /usr/bin/python3 bench/pytorch_monitor.py [--rounds 20] [--steps 100])
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

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
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10_000)
    return model, optimizer, scheduler


def data(count=16):
    generator = torch.Generator().manual_seed(2)
    return [(torch.rand(BATCH, 1, 28, 28, generator=generator), torch.randint(0, 10, (BATCH,), generator=generator)) for _ in range(count)]


class Loop:
    """One of the compared loops, with its own model, optimizer and scheduler (same seed and data)."""

    def __init__(self, variant, runs_dir):
        self.variant = variant
        self.model, self.optimizer, self.scheduler = build()
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.monitor = gradscope.Monitor(self.model, self.optimizer, run_dir=os.path.join(runs_dir, variant)) if variant == "monitor" else None
        self.monitor_seconds = []  # monitor.step alone, each step


    def step(self, x, y):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        if self.monitor is None:
            self.optimizer.step()
            if self.variant == "plain+item":
                loss.item()
        else:
            start = time.perf_counter()
            ok = self.monitor.step(loss)
            self.monitor_seconds.append(time.perf_counter() - start)
            if ok:
                self.optimizer.step()
        self.scheduler.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds (default 20)")
    parser.add_argument("--steps", type=int, default=100, help="steps of each loop per round (default 100)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    batches = data()
    variants = ["plain", "plain+item", "monitor"]
    runs_dir = tempfile.mkdtemp(prefix="gradscope-bench-")
    try:
        loops = [Loop(v, runs_dir) for v in variants]
        for i in range(20):  # warm-up outside the clock: kernels, Adam's state, the run folder
            for loop in loops:
                loop.step(*batches[i % len(batches)])
        results = {schedule: run_rounds(loops, batches, args.rounds, args.steps, schedule) for schedule in ("blocks", "steps")}
        for loop in loops:
            if loop.monitor:
                loop.monitor.close()
    finally:
        shutil.rmtree(runs_dir, ignore_errors=True)
    print("gradscope.Monitor overhead: seed MLP 784-128-64-10, Adam, batch %d, torch %s, 1 CPU thread, %d rounds x %d steps per loop, load average %.1f on %d cores"
          % (BATCH, torch.__version__, args.rounds, args.steps, os.getloadavg()[0], os.cpu_count()))
    for schedule, rounds in results.items():
        print(" %s:" % SCHEDULES[schedule])
        report(rounds, variants)
    ratio = statistics.median(r["monitor"] / r["plain"] for r in results["blocks"])
    print("monitor / plain = %.3f in blocks (target <= 1.03): %s" % (ratio, "met" if ratio <= 1.03 else "NOT met"))


SCHEDULES = {
    "blocks": "each loop a block of steps in turn (its model stays in the caches, as in training)",
    "steps": "the loops interleaved step by step (each step starts with another model in the caches)",
}


def run_rounds(loops, batches, rounds_count, steps, schedule):
    clock = time.perf_counter
    rounds = []
    for round_index in range(rounds_count):
        times = {loop.variant: [] for loop in loops}
        monitor_loop = next(loop for loop in loops if loop.monitor)
        monitor_loop.monitor_seconds.clear()
        if schedule == "blocks":
            shift = round_index % len(loops)
            for loop in loops[shift:] + loops[:shift]:
                for i in range(steps):
                    x, y = batches[i % len(batches)]
                    start = clock()
                    loop.step(x, y)
                    times[loop.variant].append(clock() - start)
        else:
            for i in range(steps):
                x, y = batches[i % len(batches)]
                shift = i % len(loops)
                for loop in loops[shift:] + loops[:shift]:
                    start = clock()
                    loop.step(x, y)
                    times[loop.variant].append(clock() - start)
        figures = {v: statistics.median(t) * 1000 for v, t in times.items()}
        figures.update({v + " mean": statistics.fmean(t) * 1000 for v, t in times.items()})
        figures["step()"] = statistics.median(monitor_loop.monitor_seconds) * 1000
        rounds.append(figures)
    return rounds


def report(rounds, variants):
    for variant in variants:
        ms = [r[variant] for r in rounds]
        ratios = [r[variant] / r["plain"] for r in rounds]
        mean_ratio = statistics.median(r[variant + " mean"] / r["plain mean"] for r in rounds)
        print("  %-11s %7.3f ms/step (median of round medians; rounds %.3f-%.3f)   / plain: median %.3f, rounds %.3f-%.3f; mean steps %.3f"
              % (variant, statistics.median(ms), min(ms), max(ms), statistics.median(ratios), min(ratios), max(ratios), mean_ratio))
    inside = [r["step()"] for r in rounds]
    share = [r["step()"] / r["plain"] for r in rounds]
    print("  monitor.step() alone: %.1f us (median; rounds %.1f-%.1f) = %.1f%% of a plain step (rounds %.1f-%.1f%%)"
          % (statistics.median(inside) * 1000, min(inside) * 1000, max(inside) * 1000, statistics.median(share) * 100, min(share) * 100, max(share) * 100))


if __name__ == "__main__":
    main()
