"""The fast engine: queue stages as recursions over arrays instead of SimPy processes."""
