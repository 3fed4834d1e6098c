"""A custom ``torch.autograd.Function`` (the PyTorch tutorial's LegendrePolynomial3 and a
straight-through clamp): ctx.save_for_backward, saved_tensors, needs_input_grad, apply."""
import numpy as np
import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class StraightThroughClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, low, high):
        return input.clamp(low, high)

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output if ctx.needs_input_grad[0] else None), None, None


x = torch.linspace(-1, 1, 50)
y = torch.from_numpy(np.sin(np.linspace(-1, 1, 50) * 3).astype(np.float32))
a, b, c, d = (torch.tensor(v, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
P3 = LegendrePolynomial3.apply
for t in range(40):
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= 5e-3 * p.grad
            p.grad = None
    if t % 10 == 9:
        print(f"step {t} loss {loss.item():.6f}")
a, b, c, d = (round(p.item(), 5) + 0.0 for p in (a, b, c, d))  # + 0.0: no "-0.00000" from rounding noise
print(f"result y = {a:.5f} + {b:.5f} * P3({c:.5f} + {d:.5f} x)")

w = torch.tensor([-2.0, 0.5, 3.0], requires_grad=True)
StraightThroughClamp.apply(w, -1.0, 1.0).sum().backward()
print("straight through", w.grad.tolist())
