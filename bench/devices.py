"""The FPGA parts a design is costed on: what each one has, and how nextpnr is told to target it.

Resource names are normalised across the two families so that one comparison works for both:

``lut4``
    4-input LUTs: iCE40 logic cells (ICESTORM_LC), ECP5 TRELLIS_COMB slots.
``ff``
    flip-flops (one per logic cell on both families).
``bram``
    block RAMs: SB_RAM40_4K (4 Kbit) on iCE40, DP16KD (18 Kbit) on ECP5.
``spram``
    iCE40 UP5K single-port RAMs (SB_SPRAM256KA, 256 Kbit each).
``dsp``
    multipliers: SB_MAC16 on iCE40 UP5K, MULT18X18D on ECP5.
``lutram``
    ECP5 distributed-RAM write ports (TRELLIS_RAMW), one per TRELLIS_DPR16X4.
``io``
    user I/O pins of the package.

The logic, RAM and DSP counts are the ``available`` figures nextpnr 0.11 reports for each part
(``--report``); the ECP5 I/O counts are the package's from Lattice's ECP5 family data sheet
(nextpnr's report counts the die's I/O sites, not the package's pins).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Device", "DEVICES", "DEFAULT_DEVICES", "FAMILIES", "get_device"]

FAMILIES = ("ice40", "ecp5")


@dataclass(frozen=True)
class Device:
    """One FPGA part in one package.

    Parameters
    ----------
    name : str
        Key in :data:`DEVICES`, e.g. ``"up5k-sg48"``.
    family : str
        ``"ice40"`` or ``"ecp5"``: picks the yosys and nextpnr flow.
    nextpnr_args : tuple of str
        Arguments that select the part and package in nextpnr.
    resources : dict of str to int
        What the part has, under the normalised names of this module's docstring.
    bram_bits : int
        Bits per block RAM (without the parity bits nothing here uses).
    """
    name: str
    family: str
    nextpnr_args: tuple[str, ...]
    resources: dict[str, int] = field(hash=False)
    bram_bits: int

    @property
    def memory_bits(self) -> int:
        """On-chip RAM bits in block RAM and single-port RAM (LUT RAM not counted)."""
        return (self.resources.get("bram", 0) * self.bram_bits
                + self.resources.get("spram", 0) * _SPRAM_BITS)


_SB_RAM40_4K_BITS = 4096
_DP16KD_BITS = 18 * 1024
_SPRAM_BITS = 256 * 1024


def _ice40(name, part, package, *, lc, bram, spram, dsp, io):
    return Device(name, "ice40", (f"--{part}", "--package", package),
                  {"lut4": lc, "ff": lc, "bram": bram, "spram": spram, "dsp": dsp, "io": io},
                  _SB_RAM40_4K_BITS)


def _ecp5(name, part, *, luts, bram, dsp, lutram, io):
    return Device(name, "ecp5", (f"--{part}", "--package", "CABGA381"),
                  {"lut4": luts, "ff": luts, "bram": bram, "dsp": dsp, "lutram": lutram, "io": io},
                  _DP16KD_BITS)


DEVICES: dict[str, Device] = {d.name: d for d in (
    _ice40("up5k-sg48", "up5k", "sg48", lc=5280, bram=30, spram=4, dsp=8, io=39),
    _ice40("hx8k-ct256", "hx8k", "ct256", lc=7680, bram=32, spram=0, dsp=0, io=206),
    _ecp5("ecp5-25f", "25k", luts=24288, bram=56, dsp=28, lutram=3036, io=197),
    _ecp5("ecp5-45f", "45k", luts=43848, bram=108, dsp=72, lutram=5481, io=203),
    _ecp5("ecp5-85f", "85k", luts=83640, bram=208, dsp=156, lutram=10455, io=205),
)}

DEFAULT_DEVICES = {"ice40": "up5k-sg48", "ecp5": "ecp5-25f"}


def get_device(name: str) -> Device:
    """Return the part called ``name``.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If no part has that name; the message lists the known ones.
    """
    if not isinstance(name, str):
        raise TypeError(f"device must be a part name (str), not {name!r}")
    try:
        return DEVICES[name]
    except KeyError:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}; "
                         f"got {name!r}") from None
