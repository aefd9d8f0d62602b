# The seed MLP (784-128-64-10, Adam, batch 128) in PyTorch on N CPU threads (argv[1], default 1):
# prints ms per step. Run by bench/loop.bench.ts with the thread count Gradscope's wasm backend uses.
import sys
import time
import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(1)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(128, 28, 28)
y = torch.randint(0, 10, (128,))
loss_fn = torch.nn.CrossEntropyLoss()

def step():
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()

for _ in range(10):
    step()
steps = 200
start = time.perf_counter()
for _ in range(steps):
    step()
print((time.perf_counter() - start) * 1000 / steps)
