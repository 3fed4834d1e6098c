"""utils.data: datasets, loaders, splits."""
import pytest

import tracer
from tracer.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split


def test_tensor_dataset_and_loader_batches():
    x = tracer.arange(10.0).reshape(5, 2)
    y = tracer.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5 and ds[1][0].tolist() == [2.0, 3.0] and ds[1][1].item() == 1
    batches = list(DataLoader(ds, batch_size=2))
    assert [b[0].shape[0] for b in batches] == [2, 2, 1]
    assert len(DataLoader(ds, batch_size=2)) == 3 and len(DataLoader(ds, batch_size=2, drop_last=True)) == 2
    assert [len(b[1]) for b in DataLoader(ds, batch_size=2, drop_last=True)] == [2, 2]


def test_shuffle_is_reproducible_with_a_generator():
    ds = TensorDataset(tracer.arange(20))
    first = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=tracer.Generator().manual_seed(1))]
    again = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=tracer.Generator().manual_seed(1))]
    assert first == again and sorted(sum(first, [])) == list(range(20)) and first[0] != [0, 1, 2, 3, 4]


class Squares(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return tracer.tensor([float(i)]), i * i


def test_custom_dataset_collates_tuples():
    (x, y), _ = list(DataLoader(Squares(), batch_size=2))
    assert x.shape == (2, 1) and y.tolist() == [0, 1]


def test_random_split_and_subset():
    parts = random_split(TensorDataset(tracer.arange(10)), [7, 3], generator=tracer.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3]
    seen = sorted(int(parts[i][j][0]) for i in range(2) for j in range(len(parts[i])))
    assert seen == list(range(10))
    fractions = random_split(TensorDataset(tracer.arange(10)), [0.5, 0.5])
    assert [len(p) for p in fractions] == [5, 5]
    assert Subset(Squares(), [3])[0][1] == 9
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(TensorDataset(tracer.arange(10)), [3, 3])
