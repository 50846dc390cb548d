"""cocotb testbench modules, run through :func:`edgeforge.sim.runner.run_cocotb`."""
