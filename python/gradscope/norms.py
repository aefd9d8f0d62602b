"""Gradient norms per parameter, per module and overall, with one device→host copy per step."""

import math

import torch

_HAS_FOREACH_NORM = hasattr(torch, "_foreach_norm")


def unwrap(model):
    """The module inside DistributedDataParallel / DataParallel, so names read ``fc1``, not ``module.fc1``."""
    inner = getattr(model, "module", None)
    return inner if isinstance(inner, torch.nn.Module) else model


class ModuleLayout:
    """Which trainable parameters belong to which parameterised module (one that owns parameters
    directly, usually a leaf like Linear). A parameter shared by two modules counts once, for the
    first, so the total matches ``clip_grad_norm_(model.parameters())``."""

    def __init__(self, model):
        root = unwrap(model)
        self.params = []
        self.names = []
        self.module_of = []  # module index of each parameter
        self.types = []
        self.counts = []
        seen = set()
        for module_name, module in root.named_modules():
            own = [p for _, p in module.named_parameters(recurse=False) if p.requires_grad and id(p) not in seen]
            if not own:
                continue
            index = len(self.names)
            self.names.append(module_name or type(module).__name__)
            self.types.append(type(module).__name__)
            self.counts.append(sum(p.numel() for p in own))
            for p in own:
                seen.add(id(p))
                self.params.append(p)
                self.module_of.append(index)
        if not self.params:
            raise ValueError("gradscope: the model has no trainable parameters (none with requires_grad)")


class NormReader:
    """Computes, for the current ``.grad`` of a ModuleLayout's parameters, the global L2 norm and one
    norm per module, plus any extra scalars (the loss) in the same single ``.tolist()``."""

    def __init__(self, layout):
        self.layout = layout
        self._present_key = None
        self._groups = None

    def grads(self):
        """The gradients that exist (a parameter not used in the forward pass has none)."""
        return [p.grad for p in self.layout.params if p.grad is not None]

    def read(self, grads, extras):
        """``(per_param_norms_of_present_grads, extras_values)`` as Python floats, one sync."""
        norms = _norms(grads) if grads else []
        device = norms[0].device if norms else extras[0].device
        values = torch.stack([n.float() for n in norms] + [e.to(device=device, dtype=torch.float32) for e in extras]).tolist()
        return values[: len(norms)], values[len(norms):]

    def reduce(self, norms):
        """(total, per-module norms) from per-parameter norms, summed in float64 on the host."""
        groups = self._module_groups()
        squares = [v * v for v in norms]
        total = math.sqrt(math.fsum(squares))
        per_module = [0.0] * len(self.layout.names)
        for position, module in enumerate(groups):
            per_module[module] += squares[position]
        return total, [math.sqrt(v) for v in per_module]

    def _module_groups(self):
        """Module index of each present gradient, cached while the same parameters have gradients."""
        present = tuple(p.grad is not None for p in self.layout.params)
        if present != self._present_key:
            self._present_key = present
            self._groups = [m for m, has in zip(self.layout.module_of, present) if has]
        return self._groups


def _norms(grads):
    """One 0-d norm tensor per gradient, on the first gradient's device."""
    device = grads[0].device
    if _HAS_FOREACH_NORM and all(not g.is_sparse and g.device == device for g in grads):
        return list(torch._foreach_norm(grads))
    return [g.coalesce()._values().norm().to(device) if g.is_sparse else g.norm().to(device) for g in grads]


def scale_(grads, factor):
    """Multiplies every gradient in place (what clip_grad_norm_ does with its clamped coefficient)."""
    if hasattr(torch, "_foreach_mul_") and all(not g.is_sparse for g in grads):
        torch._foreach_mul_(grads, factor)
    else:
        for g in grads:
            g.mul_(factor)
