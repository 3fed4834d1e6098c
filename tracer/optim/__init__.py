"""``tracer.optim``: SGD, Adam, AdamW, RMSprop, Adadelta and learning-rate schedulers."""
from tracer.optim import lr_scheduler  # noqa: F401
from tracer.optim.adadelta import Adadelta  # noqa: F401
from tracer.optim.adam import Adam, AdamW  # noqa: F401
from tracer.optim.optimizer import Optimizer  # noqa: F401
from tracer.optim.rmsprop import RMSprop  # noqa: F401
from tracer.optim.sgd import SGD  # noqa: F401
