"""A long eager training loop holds steady memory: graphs are released after backward."""
import gc
import resource

import tracer
from tracer import nn


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2 ** 20


def test_resident_memory_stays_flat_over_20000_steps():
    tracer.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = tracer.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = tracer.randn(32, 8), tracer.randn(32, 1)
    losses = []

    def step():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())

    for _ in range(1000):
        step()
    gc.collect()
    after_1000 = _rss_mb()
    for _ in range(19000):
        step()
    gc.collect()
    after_20000 = _rss_mb()
    assert after_20000 <= after_1000 * 1.10, (after_1000, after_20000)
    assert losses[-1] < losses[0]
