"""``tracer.optim``: torch.optim's optimizers (SGD, Adam, AdamW, Adamax, NAdam, RAdam, Adagrad,
Adadelta, RMSprop, Rprop, ASGD, LBFGS) and learning-rate schedulers."""
from tracer.optim import lr_scheduler  # noqa: F401
from tracer.optim.adadelta import Adadelta  # noqa: F401
from tracer.optim.adagrad import Adagrad  # noqa: F401
from tracer.optim.adam import Adam, AdamW  # noqa: F401
from tracer.optim.adamax import Adamax  # noqa: F401
from tracer.optim.asgd import ASGD  # noqa: F401
from tracer.optim.lbfgs import LBFGS  # noqa: F401
from tracer.optim.nadam import NAdam  # noqa: F401
from tracer.optim.optimizer import Optimizer  # noqa: F401
from tracer.optim.radam import RAdam  # noqa: F401
from tracer.optim.rmsprop import RMSprop  # noqa: F401
from tracer.optim.rprop import Rprop  # noqa: F401
from tracer.optim.sgd import SGD  # noqa: F401
