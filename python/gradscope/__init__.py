"""Gradscope for PyTorch: stream a training loop into a Gradscope run folder, with guards and live control.

    import gradscope
    with gradscope.Monitor(model, optimizer) as monitor:
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            if monitor.step(loss):      # False: skip this update (non-finite loss or gradient)
                optimizer.step()
            scheduler.step()
            if monitor.should_stop:     # a stop asked from the editor or `gradscope control`
                break
"""

from .monitor import VERSION as __version__
from .monitor import Monitor, NonFiniteError

__all__ = ["Monitor", "NonFiniteError", "__version__"]
