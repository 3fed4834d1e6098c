"""``Optimizer``: param groups, per-parameter state, zero_grad and state_dict, as torch's.

Every update is ordinary tensor ops under ``no_grad``, so a step inside a trace becomes graph
nodes, and state such as Adam's step count is a tensor so the traced graph stays exact.
"""
from __future__ import annotations

from tracer.core.watch import WatchedDict, Watchers
from tracer.core import tracing
from tracer.core.errors import err
from tracer.core.grad_mode import enable_grad, no_grad
from tracer.core.tensor import Tensor


def bias_correction(beta: float, step) -> "float | Tensor":
    """``1 - beta ** step`` in double precision, as torch computes it from the step count: a
    Python float eagerly; inside a trace, a float64 0-d graph value (reading the step into
    Python would freeze it into the graph)."""
    if tracing.current() is None:
        return 1 - beta ** step._value.item()
    return 1 - beta ** step.double()


def fed_value(group, key: str) -> float:
    """The float a fed hyperparameter ``key`` holds in ``group`` ("beta1" is ``betas[0]``)."""
    return group["betas"][0] if key == "beta1" else group[key]


#: A fed hyperparameter's dtype in the graph: None for the parameters' dtype (as torch casts the
#: float), or float64 where torch computes with it in Python double (Adam's bias correction).
FED_DTYPE = {"lr": None, "momentum": None, "beta1": "float64"}


def step_value(step) -> "float | Tensor":
    """A step count as torch reads it into Python (``_get_value``): a float eagerly; inside a
    trace, a float64 0-d graph value, so scalars computed from it stay double precision."""
    if tracing.current() is None:
        return step._value.item()
    return step.double()


def scalar_value(t) -> "float | Tensor":
    """A 0-d state tensor (NAdam's mu_product, ASGD's eta) as torch reads it with ``.item()``:
    its exact value as a Python float eagerly, as float64 inside a trace."""
    return step_value(t)


def check_adam_family(lr, eps, betas, weight_decay) -> None:
    """The argument checks torch's Adam-family constructors share, with torch's messages."""
    if not 0.0 <= lr:
        raise err(ValueError, f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise err(ValueError, f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise err(ValueError, f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise err(ValueError, f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise err(ValueError, f"Invalid weight_decay value: {weight_decay}")


def check_implementation(name: str, foreach=None, capturable=False, differentiable=False, fused=None) -> None:
    """torch's implementation switches. ``foreach`` and ``fused`` choose how torch batches the
    same arithmetic, and give the same update: SGD, Adam and AdamW take an eager step on the
    parameters' arrays (tracer/optim/array_updates.py) unless ``foreach=False`` asks for one
    tensor op per term, as torch's single-tensor loop; both paths give the same bits;
    ``capturable`` (CUDA graphs) and ``differentiable`` (autograd through the step) change what
    a step is, and tracegrad has neither: refused, not ignored."""
    if capturable:
        raise err(NotImplementedError, f"{name}(capturable=True) is for CUDA graph capture; tracegrad runs on the "
                  "CPU: leave capturable=False")
    if differentiable:
        raise err(NotImplementedError, f"{name}(differentiable=True) (autograd through the optimizer step) is not "
                  "supported by tracegrad")
    if fused and foreach:
        raise err(RuntimeError, "`fused` and `foreach` cannot be `True` together.")


def _copied(value):
    """A loaded state value, not aliasing the state dict: tensors cloned, and the lists LBFGS
    keeps (its curvature history, which its steps then grow and shift) copied, as torch's
    ``load_state_dict`` rebuilds containers."""
    if isinstance(value, Tensor):
        return value.clone().detach()
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    return value


class Optimizer:
    """Base class: subclasses implement ``_update(group, param, state)``."""

    def __init__(self, params, defaults: dict):
        object.__setattr__(self, "_watchers", Watchers())  # compiled functions guard on groups and state
        self.defaults = dict(defaults)
        self.state: dict = WatchedDict(self._watchers)
        self._lr_inputs = None  # while tracer.compile traces: {(id(group), key): 0-d tensor holding it}
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise err(TypeError, f"{type(self).__name__}: params argument given to the optimizer should be an "
                      f"iterable of Tensors or dicts, but got a Tensor ({params._type}); pass [tensor]")
        params = list(params)
        if not params:
            raise err(ValueError, "optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for g in groups:
            self.add_param_group(g)

    def __setattr__(self, name, value):
        self._watchers.changed()
        object.__setattr__(self, name, value)

    def add_param_group(self, group: dict) -> None:
        group = WatchedDict(self._watchers, group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise err(ValueError, "can't optimize a non-leaf Tensor")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise err(ValueError, "some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._watchers.changed()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    with no_grad():
                        p._grad.zero_()

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p._grad is not None:
                        state = self.state.get(p)
                        if state is None:
                            state = self.state[p] = WatchedDict(self._watchers)
                        self._update(group, p, state)
        return loss

    def _update(self, group, p, state) -> None:
        raise NotImplementedError

    def _init_state(self, group, p, state) -> None:
        """Fill a parameter's empty state as its first step does (none, unless overridden)."""

    def initial_state(self, group, p) -> dict:
        """The state ``p``'s first step starts from, which ``step`` creates lazily: for a
        training graph traced in its steady state and started from scratch
        (``tracer.compile(...).feeds()``). A steady step from it equals torch's first step."""
        state: dict = {}
        self._init_state(group, p, state)
        return state

    def _gradient(self, group, p):
        """``p``'s gradient as torch's single-tensor steps first adjust it: negated for
        ``maximize``, plus ``weight_decay * p`` (L2 decay; AdamW decays the weights instead)."""
        grad = -p._grad if group["maximize"] else p._grad
        return grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else grad

    #: The hyperparameters a compiled step takes as graph inputs rather than baking them in
    #: (schedulers change them between steps): "lr" always; SGD adds "momentum" and Adam/AdamW
    #: "beta1" (``betas[0]``), which CyclicLR and OneCycleLR cycle.
    FED = ("lr",)

    def _lr(self, group):
        """The group's learning rate: its float, or while ``tracer.compile`` traces, a 0-d tensor
        holding it. That tensor is a graph input, so a scheduler changing the rate between
        compiled calls feeds a new value instead of forcing a new trace."""
        return self._fed(group, "lr")

    def _fed(self, group, key: str):
        """Hyperparameter ``key`` of ``group`` (one of ``FED``): its float, or while
        ``tracer.compile`` traces, the 0-d tensor input holding it."""
        if self._lr_inputs is None:
            return fed_value(group, key)
        return self._lr_inputs[(id(group), key)]

    def state_dict(self) -> dict:
        index, groups = {}, []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        name = type(self).__name__
        if len(groups) != len(self.param_groups):
            raise err(ValueError, f"{name}.load_state_dict: loaded state dict has a different number of parameter "
                      f"groups ({len(groups)} saved, {len(self.param_groups)} in the optimizer)")
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise err(ValueError, f"{name}.load_state_dict: loaded state dict contains a parameter group that "
                          f"doesn't match the size of optimizer's group (group {i}: {len(saved['params'])} saved "
                          f"parameters, {len(own['params'])} in the optimizer)")
        by_index = {}
        for saved, own in zip(groups, self.param_groups):
            for i, p in zip(saved["params"], own["params"]):
                by_index[i] = p
            own.update({k: v for k, v in saved.items() if k != "params"})
        self.state = WatchedDict(self._watchers)
        for i, s in state_dict["state"].items():
            p = by_index[int(i)]
            copied = ((k, _copied(v)) for k, v in s.items())
            self.state[p] = WatchedDict(self._watchers, copied)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines + [")"])
