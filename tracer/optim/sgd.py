"""SGD with momentum, dampening, Nesterov and weight decay (torch's single-tensor algorithm)."""
from __future__ import annotations

from tracer.core.errors import err
from tracer.ops.creation import zeros_like
from tracer.optim import array_updates
from tracer.optim.optimizer import Optimizer, check_implementation


class SGD(Optimizer):
    FED = ("lr", "momentum")

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        if lr < 0.0:
            raise err(ValueError, f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise err(ValueError, f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise err(ValueError, f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise err(ValueError, "Nesterov momentum requires a momentum and zero dampening")
        check_implementation("SGD", foreach, False, differentiable, fused)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                      foreach=foreach))

    def _init_state(self, group, p, state) -> None:
        """A zero momentum buffer: torch's first step sets the buffer to the gradient, which a
        steady step from zero reproduces exactly only without dampening."""
        if group["momentum"]:
            if group["dampening"]:
                raise err(ValueError, "SGD with momentum and dampening has no steady-state initial buffer "
                          "(torch's first step skips the dampening): run one real step before feeds()")
            state["momentum_buffer"] = zeros_like(p)

    def _update(self, group, p, state) -> None:
        lr, momentum, dampening, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        buf = state.get("momentum_buffer")
        if (group.get("foreach") is not False and array_updates.usable(p, lr, momentum, dampening, wd)
                and (buf is None or array_updates.matches(p, buf))):
            array_updates.sgd(p, state, lr, momentum, dampening, wd, group["nesterov"], group["maximize"])
            return
        d_p = self._gradient(group, p)
        if group["momentum"]:  # a fed tensor while compiled: a cycled momentum needs no new trace
            momentum = self._fed(group, "momentum")
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = d_p.clone().detach()
                state["momentum_buffer"] = buf
            else:
                buf.mul_(momentum).add_(d_p, alpha=1 - group["dampening"])
            d_p = d_p + buf * momentum if group["nesterov"] else buf  # = d_p.add(buf, alpha=momentum)
        p.sub_(d_p * self._lr(group))  # = add_(d_p, alpha=-lr), bit for bit
