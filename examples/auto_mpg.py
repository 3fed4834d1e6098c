"""Fuel efficiency regression on the Auto MPG data (``vega_datasets``' cars), as in the textbook:
standardised continuous features, a one-hot origin, a bucketised and one-hot model year, an
MLP with hidden units 8 and 4, MSE + SGD. Prints test MSE and MAE.

    python examples/auto_mpg.py
"""
from __future__ import annotations

import numpy as np

import tracer as torch
from tracer import nn
from tracer.utils.data import DataLoader, TensorDataset

CONTINUOUS = ["Cylinders", "Displacement", "Horsepower", "Weight", "Acceleration"]
YEAR_BOUNDARIES = [73, 76, 79]


def load_frame():
    """The cars table with the textbook's column names, rows with missing values dropped."""
    from vega_datasets import local_data
    df = local_data.cars().rename(columns={"Miles_per_Gallon": "MPG", "Weight_in_lbs": "Weight"})
    df["Model Year"] = df["Year"].dt.year % 100
    df = df[["MPG"] + CONTINUOUS + ["Model Year", "Origin"]].dropna().reset_index(drop=True)
    return df


def make_data(seed: int = 1, test_fraction: float = 0.2):
    """(x_train, y_train, x_test, y_test) as float32 arrays: features standardised with the
    training set's statistics, then the bucketised year and the origin one-hot encoded."""
    df = load_frame()
    order = np.random.default_rng(seed).permutation(len(df))
    n_test = int(round(len(df) * test_fraction))
    test, train = df.iloc[order[:n_test]], df.iloc[order[n_test:]]
    mean, std = train[CONTINUOUS].mean(), train[CONTINUOUS].std()
    origins = sorted(df["Origin"].unique())

    def features(part):
        cont = torch.tensor(((part[CONTINUOUS] - mean) / std).to_numpy(np.float32))
        year = torch.bucketize(torch.tensor(part["Model Year"].to_numpy()), torch.tensor(YEAR_BOUNDARIES), right=True)
        year_onehot = nn.functional.one_hot(year, num_classes=len(YEAR_BOUNDARIES) + 1).float()
        origin = torch.tensor(part["Origin"].map(origins.index).to_numpy())
        origin_onehot = nn.functional.one_hot(origin, num_classes=len(origins)).float()
        return torch.cat([cont, year_onehot, origin_onehot], 1).numpy()

    target = lambda part: part["MPG"].to_numpy(np.float32)  # noqa: E731
    return features(train), target(train), features(test), target(test)


def make_model(n_features: int):
    hidden = [8, 4]
    layers, width = [], n_features
    for units in hidden:
        layers += [nn.Linear(width, units), nn.ReLU()]
        width = units
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def train(model, data, num_epochs=200, batch_size=8, lr=0.001, progress=None):
    x_train, y_train, _, _ = (torch.from_numpy(a) for a in data)
    torch.manual_seed(1)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size, shuffle=True)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for epoch in range(num_epochs):
        total = 0.0
        for x_batch, y_batch in loader:
            pred = model(x_batch)[:, 0]
            loss = loss_fn(pred, y_batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            total += loss.item() * len(y_batch)
        losses.append(total / len(x_train))
        if progress is not None:
            progress.update(1)
    return losses


def evaluate(model, data):
    _, _, x_test, y_test = (torch.from_numpy(a) for a in data)
    with torch.no_grad():
        pred = model(x_test)[:, 0]
        mse = nn.MSELoss()(pred, y_test).item()
        mae = nn.L1Loss()(pred, y_test).item()
    return mse, mae


def main(num_epochs: int = 200, plot: str | None = "auto_mpg_loss.png"):
    from tqdm import tqdm
    data = make_data()
    torch.manual_seed(1)
    model = make_model(data[0].shape[1])
    with tqdm(total=num_epochs, desc="Auto MPG") as bar:
        losses = train(model, data, num_epochs, progress=bar)
    mse, mae = evaluate(model, data)
    print(f"Test MSE: {mse:.4f}")
    print(f"Test MAE: {mae:.4f}")
    if plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(losses)
        ax.set(xlabel="epoch", ylabel="training MSE", yscale="log", title="Auto MPG")
        fig.tight_layout()
        fig.savefig(plot, dpi=100)
        print(f"saved {plot}")
    return mse, mae


if __name__ == "__main__":
    main()
