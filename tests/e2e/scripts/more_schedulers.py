"""The schedulers beyond StepLR/ExponentialLR/LambdaLR that recipes use: MultiStepLR,
CosineAnnealingLR, OneCycleLR (stepped per batch), LinearLR warmup chained into cosine with
SequentialLR, and ReduceLROnPlateau fed a validation loss."""
import torch
from torch.optim import lr_scheduler

param = torch.zeros(2, requires_grad=True)


def sweep(name, make, steps=8, metric=None):
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    sched = make(opt)
    lrs = []
    for step in range(steps):
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
        sched.step(metric(step)) if metric else sched.step()
    print(name, " ".join(f"{lr:.6f}" for lr in lrs))


sweep("multistep", lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5], gamma=0.1))
sweep("cosine", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.001))
sweep("onecycle", lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=8))
sweep("warmup+cosine", lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=3),
                                                               lr_scheduler.CosineAnnealingLR(o, T_max=5)], milestones=[3]))
sweep("plateau", lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=1), metric=lambda s: 1.0)
