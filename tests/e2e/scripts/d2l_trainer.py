"""A d2l.ai-style Trainer (chapter 3, "linear regression from scratch"): a synthetic data module
with its own DataLoader, a model with training_step/validation_step/configure_optimizers, a
hand-written SGD, ``backward()`` called inside ``torch.no_grad()`` as d2l does, and d2l's
gradient clipping through ``param.grad[:] *=``."""
import numpy as np
import torch
from torch import nn


class SyntheticRegressionData:
    def __init__(self, w, b, noise=0.01, num_train=120, num_val=40, batch_size=16):
        self.num_train, self.batch_size = num_train, batch_size
        n = num_train + num_val
        rng = np.random.default_rng(11)
        self.X = torch.tensor(rng.standard_normal((n, len(w))).astype(np.float32))
        noise = torch.tensor((rng.standard_normal((n, 1)) * noise).astype(np.float32))
        self.y = torch.matmul(self.X, w.reshape((-1, 1))) + b + noise

    def get_tensorloader(self, tensors, train, indices=slice(0, None)):
        tensors = tuple(a[indices] for a in tensors)
        dataset = torch.utils.data.TensorDataset(*tensors)
        return torch.utils.data.DataLoader(dataset, self.batch_size, shuffle=False)

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)


class SGD:
    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def step(self):
        for param in self.params:
            param -= self.lr * param.grad

    def zero_grad(self):
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


class LinearRegressionScratch(nn.Module):
    def __init__(self, num_inputs, lr):
        super().__init__()
        self.lr = lr
        w0 = np.random.default_rng(5).standard_normal((num_inputs, 1)).astype(np.float32) * 0.01
        self.w = torch.tensor(w0, requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)

    def forward(self, X):
        return torch.matmul(X, self.w) + self.b

    def loss(self, y_hat, y):
        l = (y_hat - y) ** 2 / 2
        return l.mean()

    def training_step(self, batch):
        return self.loss(self(*batch[:-1]), batch[-1])

    def validation_step(self, batch):
        return self.loss(self(*batch[:-1]), batch[-1])

    def configure_optimizers(self):
        return SGD([self.w, self.b], self.lr)


class Trainer:
    def __init__(self, max_epochs, gradient_clip_val=0):
        self.max_epochs, self.gradient_clip_val = max_epochs, gradient_clip_val

    def prepare_batch(self, batch):
        return batch

    def fit(self, model, data):
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.model, self.optim = model, model.configure_optimizers()
        self.epoch = self.train_batch_idx = self.val_batch_idx = 0
        for self.epoch in range(self.max_epochs):
            self.fit_epoch()

    def fit_epoch(self):
        self.model.train()
        train_losses = []
        for batch in self.train_dataloader:
            loss = self.model.training_step(self.prepare_batch(batch))
            self.optim.zero_grad()
            with torch.no_grad():
                loss.backward()
                if self.gradient_clip_val > 0:
                    self.clip_gradients(self.gradient_clip_val, self.model)
                self.optim.step()
            self.train_batch_idx += 1
            train_losses.append(loss.item())
        self.model.eval()
        val_losses = []
        for batch in self.val_dataloader:
            with torch.no_grad():
                val_losses.append(self.model.validation_step(self.prepare_batch(batch)).item())
            self.val_batch_idx += 1
        print(f"epoch {self.epoch} train {np.mean(train_losses):.6f} val {np.mean(val_losses):.6f}")

    def clip_gradients(self, grad_clip_val, model):
        params = [p for p in (model.w, model.b) if p.requires_grad]
        norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
        if norm > grad_clip_val:
            for param in params:
                param.grad[:] *= grad_clip_val / norm


data = SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
model = LinearRegressionScratch(2, lr=0.1)
trainer = Trainer(max_epochs=3, gradient_clip_val=5.0)
trainer.fit(model, data)
print("batches", trainer.train_batch_idx, trainer.val_batch_idx)
with torch.no_grad():
    print(f"error in estimating w: {(data.X.new_tensor([2, -3.4]) - model.w.reshape(-1)).abs().max().item():.5f}")
    print(f"error in estimating b: {(4.2 - model.b).abs().item():.5f}")
