"""A nanoGPT-style character-level GPT (2 layers, 4 heads, n_embd 64, block 32) on 200,000
characters of Shakespeare, written as nanoGPT's model.py writes it: token and position
embeddings, pre-norm blocks of causal self-attention (``F.scaled_dot_product_attention`` with
``is_causal=True``) and a GELU MLP, the output layer tied to the token embedding, AdamW with
nanoGPT's two parameter groups (decay for matrices, none for biases and norms).

    python examples/char_gpt.py                       # 600 eager steps, a loss curve and a sample
    python examples/char_gpt.py --compile             # the compiled step on onnxruntime
    python examples/char_gpt.py --export gpt_train_step.onnx --ort-steps 50

``--export`` writes the whole training step (forward, backward, AdamW) as one standard ONNX
file and trains it with a plain ``onnxruntime.InferenceSession`` loop, printing its losses
next to eager training's from the same weights and batches.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import tracer as torch
from tracer import nn
from tracer.nn import functional as F

TEXT = Path(__file__).with_name("data") / "shakespeare_200k.txt"


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.resid_dropout = nn.Dropout(dropout)
        self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0,
                                           is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, n_embd: int, dropout: float):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd, dropout)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size: int, block_size: int = 32, n_layer: int = 2, n_head: int = 4, n_embd: int = 64,
                 dropout: float = 0.0):
        super().__init__()
        self.block_size = block_size
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd),
            wpe=nn.Embedding(block_size, n_embd),
            drop=nn.Dropout(dropout),
            h=nn.ModuleList([Block(n_embd, n_head, dropout) for _ in range(n_layer)]),
            ln_f=nn.LayerNorm(n_embd),
        ))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    def configure_optimizers(self, weight_decay: float = 0.1, learning_rate: float = 1e-3, betas=(0.9, 0.99)):
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens: int, temperature: float = 1.0, top_k=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
        return idx


def load_text():
    """The characters, the vocabulary (sorted) and the encoded text split 90/10."""
    text = TEXT.read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    return chars, data[:split], data[split:]


def batches(data, steps: int, batch_size: int = 16, block_size: int = 32, seed: int = 1337):
    """nanoGPT's get_batch: random windows, targets shifted by one (a NumPy generator, so a
    torch twin can be fed the very same batches)."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        ix = rng.integers(0, len(data) - block_size, batch_size)
        yield (np.stack([data[i:i + block_size] for i in ix]), np.stack([data[i + 1:i + 1 + block_size] for i in ix]))


def make_step(model, optimizer):
    def step(x, y):
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss
    return step


def train(model, data, steps: int, compile_step: bool = False, progress=None):
    optimizer = model.configure_optimizers()
    step = make_step(model, optimizer)
    run = torch.compile(step, backend="onnxruntime") if compile_step else step
    losses = []
    for x, y in batches(data, steps):
        losses.append(float(run(torch.from_numpy(x), torch.from_numpy(y))))
        if progress is not None:
            progress.update(1)
            progress.set_postfix(loss=f"{losses[-1]:.3f}")
    return losses


def export_and_train_on_onnxruntime(model, data, path, steps: int):
    """Export the steady-state training step, then train ``steps`` batches with a plain
    InferenceSession loop; returns its losses and the final state feeds."""
    import onnxruntime as ort
    step = torch.compile(make_step(model, model.configure_optimizers()))
    x0, y0 = next(batches(data, 1))
    step.export(path, example=(torch.from_numpy(x0), torch.from_numpy(y0)))
    feeds = step.feeds()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    losses = []
    for x, y in batches(data, steps):
        result = dict(zip(outputs, session.run(None, {"x": x, "y": y, **feeds})))
        feeds.update({name: result[f"updated.{name}"] for name in feeds if f"updated.{name}" in result})
        losses.append(float(result[outputs[0]]))
    return losses, feeds


@torch.no_grad()
def evaluate(model, data, batches_: int = 20) -> float:
    model.eval()
    total = [model(torch.from_numpy(x), torch.from_numpy(y))[1].item() for x, y in batches(data, batches_, seed=7)]
    model.train()
    return float(np.mean(total))


def sample(model, chars, length: int = 300, seed: int = 0) -> str:
    torch.manual_seed(seed)
    model.eval()
    out = model.generate(torch.zeros((1, 1), dtype=torch.long), length)[0].tolist()
    model.train()
    return "".join(chars[i] for i in out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--compile", action="store_true", help="train the compiled step on onnxruntime")
    parser.add_argument("--export", default="", help="also export the training step here and train it on onnxruntime")
    parser.add_argument("--ort-steps", type=int, default=50)
    parser.add_argument("--plot", default="char_gpt_curve.png", help="where to save the loss curve ('' for none)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    chars, train_data, val_data = load_text()
    torch.manual_seed(1337)
    model = GPT(len(chars))
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    print(f"{sum(p.numel() for p in model.parameters()) / 1e3:.1f}k parameters, vocabulary {len(chars)}")
    result = {}
    if args.export:
        ort_losses, _ = export_and_train_on_onnxruntime(model, train_data, Path(args.export), args.ort_steps)
        model.load_state_dict(initial)
        eager = train(model, train_data, args.ort_steps)
        model.load_state_dict(initial)
        worst = max(abs(a / b - 1) for a, b in zip(ort_losses, eager))
        print(f"{args.export}: {args.ort_steps} onnxruntime steps, loss {ort_losses[0]:.4f} -> {ort_losses[-1]:.4f}; "
              f"eager {eager[0]:.4f} -> {eager[-1]:.4f}; largest relative difference {worst:.1e}")
        result.update(ort_losses=ort_losses, eager_losses=eager)
    bar = None
    if args.progress:
        from tqdm import tqdm
        bar = tqdm(total=args.steps, desc="char GPT" + (" (compiled)" if args.compile else ""))
    losses = train(model, train_data, args.steps, compile_step=args.compile, progress=bar)
    if bar is not None:
        bar.close()
    val = evaluate(model, val_data)
    print(f"train loss {losses[0]:.3f} -> {np.mean(losses[-20:]):.3f}; validation loss {val:.3f}")
    text = sample(model, chars)
    print("sample:\n" + text)
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(losses)
        ax.set(xlabel="step", ylabel="cross-entropy", title="nanoGPT-style char GPT on tracegrad")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=100)
        print(f"saved {args.plot}")
    result.update(losses=losses, val_loss=val, sample=text)
    return result


if __name__ == "__main__":
    main()
