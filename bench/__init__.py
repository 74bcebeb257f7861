"""Scale benchmark: a synthetic snapshot generator (`bench.generate`) and the benchmark (`bench.run`)."""
