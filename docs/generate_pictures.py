"""Draw the README's pictures with tracegrad's own SVG renderer (no Graphviz needed): a small
CNN's compiled training step (SGD with momentum), whole, grouped by module, and its backward
phase, and the char GPT's training step by module. Run ``python docs/generate_pictures.py``
(``--png`` also rasterises them with the cairosvg package, for the README); it rewrites
docs/images/."""
from __future__ import annotations

import sys
from pathlib import Path

import tracer as torch
from ir import svg, view
from tracer import nn

OUT = Path(__file__).resolve().parent / "images"


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 2 * 2, 3)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def gpt_training_step():
    """examples/char_gpt.py's GPT at one layer and two heads, its compiled AdamW training step."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    import char_gpt
    torch.manual_seed(0)
    model = char_gpt.GPT(vocab_size=12, block_size=8, n_layer=1, n_head=2, n_embd=16, dropout=0.0)
    step = torch.compile(char_gpt.make_step(model, torch.optim.AdamW(model.parameters(), lr=1e-3)))
    x = torch.randint(0, 12, (2, 8))
    step(x, x)
    step(x, x)  # the steady state: AdamW's moments exist
    return step.graph


def main(out: Path = OUT, png: bool = False) -> None:
    torch.manual_seed(0)
    model = CNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    compiled = torch.compile(step)
    x, y = torch.randn(2, 1, 8, 8), torch.tensor([0, 2])
    compiled(x, y)
    compiled(x, y)  # the steady state: momentum buffers exist
    graph = compiled.graph
    out.mkdir(exist_ok=True)
    pictures = {"cnn_step.svg": {}, "cnn_step_by_module.svg": {"clusters": True},
                "cnn_step_backward.svg": {"nodes": view.select(graph, "backward"), "clusters": True}}
    drawings = {name: svg.draw(graph, **options) for name, options in pictures.items()}
    drawings["gpt_step_by_module.svg"] = svg.draw(gpt_training_step(), clusters=True)
    for name, drawing in drawings.items():
        (out / name).write_text(drawing, encoding="utf-8")
        print("wrote", out / name)
        if png and name in ("cnn_step_by_module.svg", "gpt_step_by_module.svg"):
            # a raster copy of the README's two pictures (needs the cairosvg package, not a dependency)
            import cairosvg
            scale = 0.25 if name.startswith("gpt") else 0.6  # the GPT step is an overview: ~2,000 nodes
            cairosvg.svg2png(bytestring=drawing.encode(), write_to=str(out / name.replace(".svg", ".png")), scale=scale)
            print("wrote", out / name.replace(".svg", ".png"))


if __name__ == "__main__":
    main(png="--png" in sys.argv)
