"""A differential fuzzer: random straight-line programs over every op family tracegrad has,
each checked eager tracer against eager torch, trace + interpreter against eager, ``ir.grad``
against eager gradients and onnxruntime (default and disabled optimisations) against the
interpreter.

- ``program.py``: a program (inputs and Python statements over ``m`` = tracer or torch),
  running it step by step, and printing it as a runnable script.
- ``generate.py``: programs from ``(seed, index)``, grown one probed statement at a time.
- ``oracle.py``: the checks and their tolerances.
- ``known.py``: recorded tracegrad defects (with minimal reproductions) and documented differences.
- ``campaign.py``: running many programs, the summary, shrinking a failing program.

``python -m tests.fuzz --n 5000 --seed 0`` runs a long campaign; ``test_fuzz.py`` runs a
fixed slice in CI (``TRACEGRAD_FUZZ_N=5000`` makes it the long one).
"""
