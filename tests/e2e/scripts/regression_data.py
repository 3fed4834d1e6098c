"""A helper module beside the script: imported from the script's folder, and its own
``import torch`` is aliased too."""
import numpy as np
import torch


def make_data():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.5], [-2.0], [0.5]], dtype=np.float32) + 0.25
    return torch.tensor(x), torch.tensor(y)
