"""What a script asks about the machine before it trains: CUDA, cuDNN, MPS, accelerators,
devices, and what happens when it tries a GPU anyway."""
import torch
import torch.backends.cudnn as cudnn

print("cuda available", torch.cuda.is_available(), "count", torch.cuda.device_count())
print("cudnn", cudnn.is_available(), cudnn.enabled, cudnn.benchmark, cudnn.deterministic)
cudnn.benchmark = True
cudnn.deterministic = True
print("cudnn set", torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
print("built", torch.backends.cuda.is_built(), "mps", torch.backends.mps.is_available(), torch.backends.mps.is_built())
print("accelerator", torch.accelerator.is_available(), torch.accelerator.current_accelerator())
torch.cuda.manual_seed_all(0)
torch.cuda.manual_seed(0)
torch.cuda.empty_cache()
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
print("tf32", torch.backends.cuda.matmul.allow_tf32, torch.get_float32_matmul_precision())
torch.set_float32_matmul_precision("highest")
print("precision", torch.get_float32_matmul_precision(), torch.backends.cuda.matmul.allow_tf32)

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
x = torch.ones(2, 3, device=device)
print("device", x.device, x.is_cuda, device == torch.device("cpu"), device.type, device.index)
print("to", x.to(device).device, x.to(torch.float64).dtype == torch.float64, x.cpu().device)
print("cuda device", repr(torch.device("cuda", 1)), str(torch.device("cuda:1")))
for attempt in (lambda: x.cuda(), lambda: x.to("cuda"), lambda: torch.zeros(1, device="cuda"),
                lambda: torch.nn.Linear(2, 2).cuda(), lambda: torch.cuda.current_device(),
                lambda: torch.device("gpu")):
    try:
        attempt()
        print("no error")
    except (AssertionError, RuntimeError) as e:
        print(type(e).__name__, str(e).splitlines()[0])
