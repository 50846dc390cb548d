"""Checks of a trainer's ``TrainConfig`` fields, shared by the HKLUT, SR-LUT and network trainers.

Each refuses a bad field with a ``ValueError`` that names it as ``<Config>.<field>`` and ends
in the value's repr (the CLI prints it as one line).
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["check_positive_ints", "check_patch_and_lr"]


def _field(config, name: str) -> str:
    return f"{type(config).__name__}.{name}"


def check_positive_ints(config, names: Iterable[str]) -> None:
    """Refuse a field of ``names`` that is not an integer of at least 1 (a bool is refused)."""
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{_field(config, name)} must be a positive integer, got {value!r}")


def check_patch_and_lr(config) -> None:
    """The LUT trainers' ``patch`` (at least 3) and Adam ``lr`` (a number in (0, 1]).

    A patch is reflect-padded by 2, so it needs 3 pixels. Adam moves each weight by about
    lr a step; these units' weights are of order 1, so above 1 every step overshoots (and
    from about 3e37 Adam's own float32 arithmetic overflows). The authors use 5e-4 (HKLUT)
    and 1e-4 (SR-LUT).
    """
    if config.patch < 3:
        raise ValueError(f"{_field(config, 'patch')} must be at least 3 (reflect padding by 2), "
                         f"got {config.patch!r}")
    lr = config.lr
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not 0 < lr <= 1:
        raise ValueError(f"{_field(config, 'lr')} must be a number in (0, 1], got {lr!r}")
