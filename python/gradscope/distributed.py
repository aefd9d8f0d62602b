"""What the ranks of a torch.distributed job agree on, with one small all_reduce per step.

Rank 0 reads control.json (its folder may not even exist on other nodes) and puts the control state
in a vector; the other ranks put zeros, except for their own stop flag and loss slots. A SUM
all_reduce then gives every rank the same state at the same step, the mean loss, whether any rank's
loss was non-finite (the sum is), and each rank's loss when ``per_rank`` is on.
"""

import torch
import torch.distributed as dist

from .control import ControlState

_NO_CLIP = -1.0
_HEAD = 5  # stop, pause, lrMultiplier, clip, loss sum


def active():
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class RankSync:
    def __init__(self, per_rank):
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.backend = str(dist.get_backend())
        self.per_rank = per_rank

    def share_path(self, value):
        """Rank 0's (run folder, error) on every rank: the default name holds the time, which ranks
        may not share, and a folder rank 0 could not create must fail every rank, not hang them."""
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def _device(self, loss):
        # NCCL reduces only CUDA tensors; gloo and mpi reduce CPU tensors.
        return loss.device if self.backend == "nccl" else torch.device("cpu")

    def agree_step(self, state, loss):
        """All-reduces the control state and this rank's loss; returns the reduced vector (still on the
        device: it is read after the step's norms, so reading it costs no further wait)."""
        device = self._device(loss)
        head = torch.tensor(self._encode(state) + [0.0], dtype=torch.float64, device=device)
        local = loss.detach().reshape(1).to(device=device, dtype=torch.float64)
        head[4:5] += local
        parts = [head]
        if self.per_rank:
            slots = torch.zeros(self.world_size, dtype=torch.float64, device=device)
            slots[self.rank:self.rank + 1] += local
            parts.append(slots)
        vector = torch.cat(parts) if len(parts) > 1 else head
        dist.all_reduce(vector)
        return vector

    def decode_step(self, values, state):
        """(agreed ControlState, mean loss, per-rank losses or None) from the reduced vector's values."""
        agreed = self._decode(values[:4], state)
        mean_loss = values[4] / self.world_size
        per_rank = values[_HEAD:_HEAD + self.world_size] if self.per_rank else None
        return agreed, mean_loss, per_rank

    def agree_control(self, state):
        """The control state alone (used while paused, to learn about resume or stop)."""
        device = torch.device("cuda", torch.cuda.current_device()) if self.backend == "nccl" else torch.device("cpu")
        vector = torch.tensor(self._encode(state), dtype=torch.float64, device=device)
        dist.all_reduce(vector)
        return self._decode(vector.tolist(), state)

    def _encode(self, state):
        stop = 1.0 if state.stop else 0.0
        if self.rank != 0:
            return [stop, 0.0, 0.0, 0.0]  # a rank may ask to stop; only rank 0 speaks for control.json
        clip = _NO_CLIP if state.clip is None else float(state.clip)
        return [stop, 1.0 if state.pause else 0.0, float(state.lr_multiplier), clip]

    @staticmethod
    def _decode(values, state):
        agreed = ControlState()
        agreed.stop = values[0] > 0
        agreed.pause = values[1] > 0
        agreed.lr_multiplier = values[2]
        agreed.clip = None if values[3] == _NO_CLIP else values[3]
        return agreed
