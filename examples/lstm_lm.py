"""A word-level LSTM language model in the style of pytorch/examples' word_language_model, on
the Shakespeare text shipped with the examples: an embedding, a 2-layer LSTM with dropout, a
decoder tied to the embedding, truncated backpropagation through time (the hidden state
detached between batches), ``clip_grad_norm_`` and the example's hand-written SGD update
through ``p.data``, with the learning rate divided by 4 when validation loss stops improving.

    python examples/lstm_lm.py                 # 2 epochs, prints train/validation perplexity
    python examples/lstm_lm.py --epochs 1 --bptt 20
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import tracer as torch
from tracer import nn

TEXT = Path(__file__).with_name("data") / "shakespeare_200k.txt"


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, ntoken: int, ninp: int, nhid: int, nlayers: int, dropout: float = 0.5,
                 tie_weights: bool = False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.nhid, self.nlayers = nhid, nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return nn.functional.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz: int):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))


def load_corpus(max_vocab: int = 2000):
    """Words of the text with ``<eos>`` per line, the rarest mapped to ``<unk>``; split 90/10."""
    lines = TEXT.read_text(encoding="utf-8").splitlines()
    words = [w for line in lines for w in line.split() + ["<eos>"]]
    values, counts = np.unique(words, return_counts=True)
    keep = ["<unk>"] + sorted(values[np.argsort(-counts, kind="stable")[:max_vocab - 1]].tolist())
    index = {w: i for i, w in enumerate(keep)}
    ids = np.array([index.get(w, 0) for w in words], dtype=np.int64)
    split = int(0.9 * len(ids))
    return keep, ids[:split], ids[split:]


def batchify(data, bsz: int):
    """Columns of consecutive words: (len // bsz, bsz), as the example's batchify."""
    nbatch = len(data) // bsz
    return torch.from_numpy(data[:nbatch * bsz].reshape(bsz, nbatch).T.copy())


def get_batch(source, i: int, bptt: int):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def train_epoch(model, train_data, lr: float, bptt: int, bsz: int, clip: float = 0.25, max_batches=None):
    model.train()
    criterion = nn.NLLLoss()
    hidden = model.init_hidden(bsz)
    losses = []
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        if max_batches is not None and batch >= max_batches:
            break
        data, targets = get_batch(train_data, i, bptt)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses


def evaluate(model, data_source, bptt: int, bsz: int) -> float:
    model.eval()
    criterion = nn.NLLLoss()
    total, hidden = 0.0, model.init_hidden(bsz)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total += len(data) * criterion(output, targets).item()
    return total / (len(data_source) - 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--emsize", type=int, default=64)
    parser.add_argument("--nhid", type=int, default=64)
    parser.add_argument("--nlayers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=20.0)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--max-batches", type=int, default=None, help="stop each epoch after this many batches")
    args = parser.parse_args(argv)
    vocab, train_ids, val_ids = load_corpus()
    torch.manual_seed(1111)
    train_data, val_data = batchify(train_ids, args.batch_size), batchify(val_ids, 10)
    model = RNNModel(len(vocab), args.emsize, args.nhid, args.nlayers, args.dropout, tie_weights=True)
    lr, best, history = args.lr, None, {"train": [], "val": []}
    for epoch in range(1, args.epochs + 1):
        losses = train_epoch(model, train_data, lr, args.bptt, args.batch_size, max_batches=args.max_batches)
        val = evaluate(model, val_data, args.bptt, 10)
        history["train"].append(float(np.mean(losses)))
        history["val"].append(val)
        print(f"| epoch {epoch} | lr {lr:.2f} | train ppl {math.exp(np.mean(losses)):8.2f} | "
              f"valid ppl {math.exp(val):8.2f}")
        if best is None or val < best:
            best = val
        else:
            lr /= 4.0
    return history


if __name__ == "__main__":
    main()
