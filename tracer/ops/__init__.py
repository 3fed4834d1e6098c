"""The torch-style functions, by family (mirroring ``ir/ops`` and ``backends/numpy``)."""
