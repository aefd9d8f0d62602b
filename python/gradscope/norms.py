"""Gradient norms per parameter, per module and overall, with one device→host copy per step."""

import math
import weakref

import torch

_HAS_FOREACH_NORM = hasattr(torch, "_foreach_norm")

try:  # not a dependency: torch's CPU tensors share memory with it when it is installed
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None


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


# Squared norms of dense float tensors come from torch.dot: on CPU a BLAS pass, about 3x faster than
# the norm kernel, and measured faster than one _foreach_norm call even for the small tensors (27 against
# 34 us a step on the seed MLP). On a GPU each dot is a kernel launch, so only large tensors take it and
# the small ones share one _foreach_norm (one launch for all of them).
_DOT_MIN_NUMEL = {"cpu": 1}
_DOT_MIN_NUMEL_ELSEWHERE = 65536
_DOT_DTYPES = (torch.float32, torch.float64)


class NormReader:
    """Computes, for the current ``.grad`` of a ModuleLayout's parameters, the global L2 norm and one
    norm per module, plus extra scalars (the loss) in the same single ``.tolist()``."""

    def __init__(self, layout):
        self.layout = layout
        self._plans = {}
        self._quick = None  # the all-gradients plan's _CpuSquares once it exists, when numpy is there
        self._quick_slices = None

    def grads(self):
        """The gradients that exist (a parameter not used in the forward pass has none)."""
        return [p.grad for p in self.layout.params if p.grad is not None]

    def read(self, grads, extras):
        """``(squared norm of each gradient in ``grads``, extras' values)`` as Python floats, one sync."""
        if not grads:
            return [], torch.stack([e.detach().float().reshape(()) for e in extras]).tolist()
        plan = self._plan(grads)
        if plan.into is not None and all(e.device.type == "cpu" for e in extras):
            # On the CPU there is no device to wait for: one dot per gradient, no stack, and the loss
            # read apart. Twice as fast as the general path.
            return plan.into.squares(grads), [float(e) for e in extras]
        device = plan.device
        parts = []
        for i in plan.dot:
            flat = grads[i].reshape(-1)
            parts.append(torch.dot(flat, flat))
        if plan.norm:
            small = [grads[i] for i in plan.norm]
            parts += torch._foreach_norm(small) if plan.foreach else _norms(small)
        if not plan.float32:  # every part in float32 for the stack (a no-op, skipped, in the usual case)
            parts = [part.float() for part in parts]
        parts += [e.detach() if e.dtype == torch.float32 and e.dim() == 0 and e.device == device else e.detach().to(device=device, dtype=torch.float32).reshape(()) for e in extras]
        values = torch.stack(parts).tolist()
        count = len(grads)
        squares = [0.0] * count
        for position, i in enumerate(plan.dot):
            squares[i] = values[position]
            if squares[i] == math.inf:  # the square overflowed float32; the norm itself may not have
                squares[i] = grads[i].double().norm().item() ** 2
        offset = len(plan.dot)
        for position, i in enumerate(plan.norm):
            squares[i] = values[offset + position] ** 2
        return squares, values[count:]

    def quick(self):
        """``(total, per-module norms)`` on the CPU when every parameter has a gradient and numpy is
        there, or None when ``read`` and ``reduce`` must run. Same values as they give, in one pass of
        ``_CpuSquares.squares``. The steps between two looks at control.json take the faster
        function ``bound_reader`` makes; this is for the others."""
        into = self._quick
        if into is None:
            return None
        grads = [p.grad for p in self.layout.params]
        if any(grad is None for grad in grads):
            return None
        squares = into.squares(grads, self.layout.params)
        fsum, sqrt = math.fsum, math.sqrt
        total_square = fsum(squares)
        if total_square == math.inf:
            return None  # the norm itself is infinite (an overflowed square is read again in float64): the general path says so
        return sqrt(total_square), [sqrt(fsum(squares[start:end])) for start, end in self._quick_slices]

    def bound_reader(self):
        """A function of no argument that returns ``(total squared norm, per-module norms)`` for the
        gradients as they are now, or None when it cannot (``quick`` and ``read`` then do), with
        everything it reads bound here once. While the views are kept it loops over them; while the
        loop replaces its gradients every step (torch 2's ``zero_grad``) it makes a view of each and
        drops it at once. None when neither applies (no numpy, another dtype or device)."""
        into = self._quick
        if into is None or _np is None:
            return None
        last = {end - 1 for _, end in self._quick_slices}
        sqrt = math.sqrt
        if into.kept is not None:
            kept = tuple((p, source, view, address, i in last) for i, (p, source, view, address) in enumerate(into.kept))

            def read_kept():
                module_norms = []
                total = square = 0.0
                for p, source, view, address, closes_module in kept:
                    grad = p.grad
                    # replaced (a dead reference is None too), or its memory swapped under it
                    if source() is not grad or grad is None or grad.data_ptr() != address:
                        return None
                    square += float(view.dot(view))
                    if closes_module:
                        module_norms.append(sqrt(square))
                        total += square
                        square = 0.0
                return total, module_norms

            return read_kept
        if into.keep_views:
            return None
        params = tuple((p, i in last) for i, p in enumerate(self.layout.params))
        float32 = torch.float32

        def read_replaced():
            # read_kept's accumulation, inline: a helper called per parameter would cost what binding saves.
            module_norms = []
            total = square = 0.0
            for p, closes_module in params:
                grad = p.grad
                if grad is None or grad.requires_grad or not grad.is_cpu or grad.dtype is not float32 or not grad.is_contiguous():
                    return None
                view = grad.numpy().reshape(-1)  # dropped at once: the gradient holds the memory meanwhile
                square += float(view.dot(view))
                if closes_module:
                    module_norms.append(sqrt(square))
                    total += square
                    square = 0.0
            return total, module_norms

        return read_replaced

    def reduce(self, squares):
        """(total, per-module norms) from the gradients' squared norms, summed in float64 on the host.
        A module none of whose parameters has a gradient this step has None: no gradient is not a
        zero gradient (which would read as vanishing)."""
        if not squares:
            return 0.0, [None] * len(self.layout.names)
        plan = self._plan(None)
        per_module = [0.0] * len(self.layout.names)
        for position, module in enumerate(plan.modules):
            per_module[module] += squares[position]
        return math.sqrt(math.fsum(squares)), [math.sqrt(v) if present else None for v, present in zip(per_module, plan.present_modules)]

    def _plan(self, grads):
        """How to read the gradients present now; cached while the same parameters have gradients."""
        if grads is None:
            return self._current
        present = tuple(p.grad is not None for p in self.layout.params) if len(grads) != len(self.layout.params) else None
        plan = self._plans.get(present)
        if plan is None:
            plan = self._plans[present] = _Plan(grads, [m for m, p in zip(self.layout.module_of, self.layout.params) if p.grad is not None], len(self.layout.names))
            if present is None and plan.into is not None and _np is not None:
                self._quick, self._quick_slices = plan.into, plan.module_slices
        self._current = plan
        return plan


class _Plan:
    """Which gradients go through torch.dot and which through _foreach_norm, decided once per set of
    present gradients (their shapes, dtypes and devices do not change between steps)."""

    __slots__ = ("device", "dot", "norm", "foreach", "float32", "modules", "present_modules", "into", "module_slices")

    def __init__(self, grads, modules, module_count):
        self.device = device = grads[0].device
        smallest = _DOT_MIN_NUMEL.get(device.type, _DOT_MIN_NUMEL_ELSEWHERE)
        dot = [i for i, g in enumerate(grads) if g.numel() >= smallest and g.dtype in _DOT_DTYPES and g.layout == torch.strided and g.device == device]
        chosen = set(dot)
        self.dot = dot
        self.norm = [i for i in range(len(grads)) if i not in chosen]
        self.foreach = _HAS_FOREACH_NORM and all(grads[i].layout == torch.strided and grads[i].device == device for i in self.norm)
        self.float32 = all(g.dtype == torch.float32 for g in grads)
        self.modules = modules
        self.present_modules = [False] * module_count
        for module in modules:
            self.present_modules[module] = True
        cpu_dots = device.type == "cpu" and not self.norm and self.float32
        self.into = _CpuSquares(len(grads)) if cpu_dots else None
        # Each module's gradients are consecutive (the layout lists parameters module by module).
        self.module_slices = [(modules.index(m), len(modules) - modules[::-1].index(m)) for m in range(module_count) if self.present_modules[m]]


class _CpuSquares:
    """Squared norms of float32 CPU gradients: ``ndarray.dot`` on 1-D numpy views of them where
    numpy is there (a fifth of ``torch.dot``'s per-call overhead), else ``Tensor.dot``.

    The views are kept from one step to the next while the gradients stay the same tensors on the
    same memory (``zero_grad(set_to_none=False)``, torch 1.x's default): making one costs as much as
    the dot of a small tensor. A view is valid while its gradient is the same object (a weak
    reference says so) at the same address: ``model.double()``, ``.to()`` or ``grad.data = …`` keep
    the object and swap its memory. Each view holds its memory, so no other tensor can take that
    address meanwhile. Once a loop replaces its gradients (``set_to_none=True``, torch 2's default),
    views are made per step and dropped at once, so no replaced gradient's memory is held; they are
    kept again after a step that finds every gradient as it left it (after a skipped update, say)."""

    def __init__(self, count):
        self.keep_views = True
        self.sources = [None] * count  # weak references to the gradients of the last read
        self.views = [None] * count  # their views, while kept
        self.addresses = [0] * count  # the data_ptr() each kept view was made at
        self.kept = None  # (parameter, source, view, address) of each gradient while all views are kept

    def squares(self, grads, params=None):
        """The squared norm of each gradient in ``grads``. With ``params`` (theirs, in order), sets
        ``kept`` once the views of all of them are kept."""
        sources, views, addresses = self.sources, self.views, self.addresses
        squares = []
        all_same, replaced = True, False
        for i, grad in enumerate(grads):
            source = sources[i]
            same = source is not None and source() is grad
            if not same:
                all_same = False
                replaced = replaced or source is not None
                sources[i] = weakref.ref(grad)
            view = views[i] if same and addresses[i] == grad.data_ptr() else None
            if view is None:
                view = views[i] = _view(grad, self.keep_views)
                addresses[i] = grad.data_ptr()
            if view is None:  # not contiguous, or not float32 on the CPU: torch reads it as it is
                flat = grad.reshape(-1)
                squares.append(torch.dot(flat, flat).item())
            else:
                squares.append(float(view.dot(view)))  # ndarray.dot, or torch's Tensor.dot without numpy
        if replaced:
            self.keep_views = False  # this loop may replace its gradients every step: keep no view of one
        elif all_same:
            self.keep_views = True  # every gradient is as the last read left it (again, after a skipped update)
        if not self.keep_views:
            views[:] = [None] * len(views)
        if params is not None:
            self.kept = tuple(zip(params, sources, self.views, addresses)) if self.keep_views and all(view is not None for view in self.views) else None
        return self._checked(squares, grads)

    @staticmethod
    def _checked(squares, grads):
        for i, square in enumerate(squares):
            if square == math.inf:  # the square overflowed float32; the norm itself may not have
                squares[i] = grads[i].double().norm().item() ** 2
        return squares


def _view(grad, to_keep):
    """A 1-D view of ``grad`` (numpy where it is there), or None when there is none: another dtype
    or device, or not contiguous (its reshape would be a copy, stale by the next step). ``to_keep``:
    the view may outlive this step, so it holds the memory itself, whatever becomes of ``grad``."""
    if not grad.is_cpu or grad.dtype is not torch.float32 or not grad.is_contiguous():
        return None
    flat = grad.detach() if to_keep or grad.requires_grad else grad  # detach() costs as much as the view
    return flat.numpy().reshape(-1) if _np is not None else flat.view(-1)


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
