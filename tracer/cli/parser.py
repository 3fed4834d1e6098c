"""The ``tracegrad`` command line: its subcommands and their arguments (argparse only, so
``tracegrad --help`` answers without loading NumPy or ONNX)."""
from __future__ import annotations

import argparse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tracegrad", description="Trace PyTorch-style Python into a graph IR, "
                                "differentiate it, run it on NumPy or onnxruntime, export it to ONNX.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="train an XOR classifier, trace, export, compare, compile, draw")
    demo.add_argument("-o", "--out", default="tracegrad-demo", help="output folder (default ./tracegrad-demo/)")
    demo.add_argument("--steps", type=int, default=300, help="eager training steps (default 300)")

    def target(cmd, help_text):
        c = sub.add_parser(cmd, help=help_text)
        c.add_argument("target", help="FILE.py:FUNC (a function, an nn.Module class, or a factory)")
        c.add_argument("--input", "-i", action="append", default=[], metavar="NAME=SHAPE[:DTYPE]",
                       help="an input, e.g. x=64x784 or y=64:int64 or x=data.npy (repeatable)")
        c.add_argument("--grad", action="store_true", help="include gradients (forward+backward graph)")
        c.add_argument("--seed", type=int, default=0, help="seed for random inputs")
        return c

    exp = target("export", "trace a function and export it to ONNX")
    exp.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    exp.add_argument("--opset", type=int, default=18)
    exp.add_argument("--dynamic", action="append", default=[], metavar="NAME:AXIS", help="make an input axis symbolic")
    target("compare", "run the interpreter and onnxruntime and compare them")
    show = sub.add_parser("show", help="draw a graph (FILE.py:FUNC, MODEL.onnx or GRAPH.json)")
    show.add_argument("target")
    show.add_argument("--input", "-i", action="append", default=[], metavar="NAME=SHAPE[:DTYPE]")
    show.add_argument("--grad", action="store_true")
    show.add_argument("--seed", type=int, default=0)
    show.add_argument("-o", "--output", required=True, help="graph.svg, graph.png or graph.dot")
    show.add_argument("--phase", choices=("forward", "backward", "all"), default="all",
                      help="draw only the forward or the backward nodes (with the inputs and constants "
                      "feeding them; edges among what remains), or all (default)")
    show.add_argument("--group-by-module", "--clusters", dest="clusters", action="store_true",
                      help="group nodes into boxes by module path (derived from parameter names, e.g. fc1.weight)")
    info = sub.add_parser("info", help="summarise an .onnx file")
    info.add_argument("model")
    ft = sub.add_parser("finetune", help="fine-tune an .onnx model on arrays; write the trained model",
                        description="Fine-tune an ONNX model (from any exporter) on the arrays x and y of an "
                        ".npz file, the training step compiled on onnxruntime; write the trained model with the "
                        "original's nodes and input/output names, and optionally the training step graph.")
    ft.add_argument("model", help="the model to fine-tune, MODEL.onnx (one input)")
    ft.add_argument("--data", required=True, help="DATA.npz with arrays x (inputs) and y (targets)")
    ft.add_argument("--loss", choices=("ce", "mse"), required=True,
                    help="ce: cross-entropy of the output's last axis against integer y; mse: against float y")
    ft.add_argument("--optim", choices=("adam", "sgd"), default="adam", help="the optimizer (default adam)")
    ft.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 1e-3)")
    ft.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    ft.add_argument("--batch", type=int, default=None,
                    help="examples per step (default: the model's fixed batch size, else min(32, len(x)))")
    ft.add_argument("--seed", type=int, default=0, help="seed for shuffling the examples")
    ft.add_argument("-o", "--output", required=True, help="TRAINED.onnx to write")
    ft.add_argument("--train-graph", metavar="STEP.onnx", default=None,
                    help="also write the training step as ONNX (and STEP.npz: its state inputs' arrays)")
    run = sub.add_parser("run", help="run a PyTorch script with `import torch` meaning tracer",
                         description="Run a PyTorch script unchanged: `import torch`, `import torch.nn as nn`, "
                         "`from torch.utils.data import DataLoader` ... import tracer's modules for the run.")
    run.add_argument("script", help="the script, FILE.py")
    run.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments (its sys.argv[1:])")
    return p
