"""Shared helpers of the DeBut tests: debut conv2d / linear layer dicts and a digits-ref of
DeBut chains."""

from __future__ import annotations

from network_helpers import ARGMAX, DIGITS_INPUT, FLATTEN, POOL2, RELU, conv, linear


def _debut(layer: dict, factors, mid_bits: int = 8) -> dict:
    factors = [list(f.as_tuple()) if hasattr(f, "as_tuple") else list(f) for f in factors]
    return {**layer, "transform": "debut", "factors": factors,
            "shifts": [0] * (len(factors) - 1), "mid_bits": mid_bits}


def dconv(cin, cout, factors, mid_bits=8, **kw) -> dict:
    """A debut conv2d (3x3, padding 1 unless given); shifts are placeholders."""
    return _debut(conv(cin, cout, **kw), factors, mid_bits)


def dlinear(fin, fout, factors, mid_bits=8, **kw) -> dict:
    """A debut linear; shifts are placeholders."""
    return _debut(linear(fin, fout, **kw), factors, mid_bits)


def searched(outputs, inputs, kernel=1, **kw):
    from edgeforge.models.debut.chain import search_chain
    return search_chain(outputs, inputs, kernel, **kw).factors


def digits_debut() -> dict:
    """digits-ref with every conv and linear a searched DeBut chain (All-DeBut)."""
    return {"input": DIGITS_INPUT, "layers": [
        dconv(1, 8, searched(8, 1, 3)), RELU, POOL2, dconv(8, 8, searched(8, 8, 3)), RELU, POOL2,
        FLATTEN, dlinear(32, 32, searched(32, 32)), RELU, dlinear(32, 10, searched(10, 32)),
        ARGMAX]}
