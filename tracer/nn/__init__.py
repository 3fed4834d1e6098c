"""``tracer.nn``: modules, layers, losses, ``functional`` and ``init``, as ``torch.nn``."""
from tracer.nn import functional, init  # noqa: F401
from tracer.nn.activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid,  # noqa: F401
                                  SiLU, Softmax, Softplus, Tanh)
from tracer.nn.activation import (CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, LogSigmoid,  # noqa: F401
                                  Mish, PReLU, Softshrink, Softsign, Tanhshrink)
from tracer.nn.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,  # noqa: F401
                             ConvTranspose3d)
from tracer.nn.containers import ModuleDict, ModuleList, Sequential  # noqa: F401
from tracer.nn.normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm,  # noqa: F401
                                     InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm)
from tracer.nn.normalization import RMSNorm  # noqa: F401
from tracer.nn.padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d,  # noqa: F401
                               ConstantPad2d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                               ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
                               ZeroPad3d)
from tracer.nn.pool import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d,  # noqa: F401
                            AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,
                            MaxPool1d, MaxPool2d, MaxPool3d)
from tracer.nn.fold import Fold, Unfold  # noqa: F401
from tracer.nn.pixelshuffle import PixelShuffle, PixelUnshuffle  # noqa: F401
from tracer.nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: F401
from tracer.nn.layers import (Dropout, Dropout1d, Dropout2d, Dropout3d, Flatten, Identity, Linear,  # noqa: F401
                              Unflatten)
from tracer.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,  # noqa: F401
                            NLLLoss, SmoothL1Loss)
from tracer.nn.loss import (CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss, KLDivLoss,  # noqa: F401
                            MarginRankingLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss, MultiMarginLoss,
                            PoissonNLLLoss, SoftMarginLoss, TripletMarginLoss, TripletMarginWithDistanceLoss)
from tracer.nn.distance import CosineSimilarity, PairwiseDistance  # noqa: F401
from tracer.nn.activation_extra import RReLU, Softmax2d, Softmin, Threshold  # noqa: F401
from tracer.nn.layers import AlphaDropout, FeatureAlphaDropout  # noqa: F401
from tracer.nn.containers import ParameterDict, ParameterList  # noqa: F401
from tracer.nn.linear_extra import Bilinear, LazyLinear  # noqa: F401
from tracer.nn.pool_more import (ChannelShuffle, LocalResponseNorm, LPPool1d, LPPool2d, LPPool3d,  # noqa: F401
                                 MaxUnpool1d, MaxUnpool2d)
from tracer.nn.module import Module  # noqa: F401
from tracer.nn.attention import MultiheadAttention  # noqa: F401
from tracer.nn.sparse import Embedding  # noqa: F401
from tracer.nn.sparse import EmbeddingBag  # noqa: F401
from tracer.nn.transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,  # noqa: F401
                                   TransformerEncoder, TransformerEncoderLayer)
from tracer.nn.parameter import Buffer, Parameter  # noqa: F401
from tracer.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from tracer.nn import utils  # noqa: F401
