"""backends/numpy/malloc.py: freed arrays' memory is reused, so a step-like pattern (many large
arrays alive, then all freed, again and again) stops page-faulting. Counted in page faults
(deterministic), never timed; each variant in a fresh process, since the setting is global."""
import os
import subprocess
import sys
import textwrap

import pytest

from backends.numpy import malloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# 40 arrays of 1 MiB alive at once, all freed, 20 times: with glibc's defaults the freed 40 MiB
# at the heap's top is returned to the system each round and faulted in again the next.
_STEPS = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import backends.numpy as bn
    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(2):  # warm: the first round faults in any case
        arrays = [np.ones(1 << 18, np.float32) for _ in range(40)]
        del arrays
    start = faults()
    for _ in range(20):
        arrays = [np.ones(1 << 18, np.float32) for _ in range(40)]
        del arrays
    print(bn.MALLOC_TUNED, faults() - start)
""")


def _run(env_value):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop(malloc.ENV, None)
    if env_value is not None:
        env[malloc.ENV] = env_value
    out = subprocess.run([sys.executable, "-c", _STEPS], env=env, capture_output=True, text=True, check=True)
    tuned, faults = out.stdout.split()
    return tuned == "True", int(faults)


@pytest.mark.skipif(malloc._glibc() is None, reason="glibc's mallopt only")
def test_tuned_malloc_reuses_freed_memory_instead_of_faulting_it_in_again():
    tuned, faults = _run(None)
    untuned, system_faults = _run("system")
    assert tuned and not untuned
    pages_per_round = 40 * (1 << 20) // 4096
    assert system_faults > 5 * pages_per_round, system_faults  # the pattern does fault by default
    assert faults < pages_per_round, (faults, system_faults)  # ... and not once per round when tuned


def test_system_setting_leaves_malloc_alone(monkeypatch):
    monkeypatch.setenv(malloc.ENV, "system")
    assert malloc.tune() is False
