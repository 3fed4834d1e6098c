"""A script that reaches a part of torch tracegrad does not have."""
import torch
import torch.distributed as dist

print("initialised", dist.is_available())
