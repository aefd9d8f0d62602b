"""Small models, data and run-folder readers shared by the tests."""

import json
import os

import torch


def mlp(seed=0):
    """The seed MLP of Gradscope's examples: 784-128-64-10."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )


def batches(count, size=32, seed=1):
    """MNIST-shaped synthetic batches whose labels depend on the inputs (so the loss can fall)."""
    generator = torch.Generator().manual_seed(seed)
    projection = torch.randn(784, 10, generator=generator)
    out = []
    for _ in range(count):
        x = torch.randn(size, 1, 28, 28, generator=generator)
        out.append((x, (x.flatten(1) @ projection).argmax(1)))
    return out


def read_jsonl(path):
    """Rows of a JSON-lines file; Python's json reads the bare NaN/Infinity the package writes. A last
    line without its newline is a write in progress (the test reads while a process writes): left out."""
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        text = handle.read()
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def rows(run_dir):
    return read_jsonl(os.path.join(run_dir, "metrics.jsonl"))


def events(run_dir):
    return read_jsonl(os.path.join(run_dir, "events.jsonl"))


def write_control(run_dir, request):
    """As the CLI and the editor do: a temporary file renamed over control.json."""
    path = os.path.join(run_dir, "control.json")
    with open(path + ".tmp", "w") as handle:
        json.dump(request, handle)
    os.replace(path + ".tmp", path)
