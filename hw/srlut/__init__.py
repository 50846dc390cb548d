"""SR-LUT-S / SR-LUT-F streaming engine: HKLUT's line window and block re-order around an
interpolating simplex readout, its table on chip or behind an external-memory read port."""
