"""``python -m tracer`` runs the ``tracegrad`` command."""
import sys

from tracer.cli import main

sys.exit(main())
