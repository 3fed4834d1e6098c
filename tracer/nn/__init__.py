"""``tracer.nn``: modules, layers, losses, ``functional`` and ``init``, as ``torch.nn``."""
from tracer.nn import functional, init  # noqa: F401
from tracer.nn.activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid,  # noqa: F401
                                  SiLU, Softmax, Softplus, Tanh)
from tracer.nn.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,  # noqa: F401
                             ConvTranspose3d)
from tracer.nn.containers import ModuleDict, ModuleList, Sequential  # noqa: F401
from tracer.nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm  # noqa: F401
from tracer.nn.pool import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AvgPool1d, AvgPool2d,  # noqa: F401
                            AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d)
from tracer.nn.layers import Dropout, Flatten, Identity, Linear, Unflatten  # noqa: F401
from tracer.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,  # noqa: F401
                            NLLLoss, SmoothL1Loss)
from tracer.nn.module import Module  # noqa: F401
from tracer.nn.parameter import Buffer, Parameter  # noqa: F401
