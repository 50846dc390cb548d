"""Shared helpers of the DeBut tests: debut conv2d / linear layer dicts and a digits-ref of
DeBut chains."""

from __future__ import annotations

from network_helpers import ARGMAX, DIGITS_INPUT, FLATTEN, POOL2, RELU, conv, linear  # noqa: F401


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


def debut_networks() -> dict:
    """Named DeBut networks for the pipeline and verify tests: square chains, a monotonic
    shrinking chain (the paper generator's shape, 2x2 blocks), a bulging one, and sizes that
    are not powers of two padded (10 outputs from 16, 9 C taps to 12, 31 features to 32)."""
    from edgeforge.models.debut.chain import chain_from_blocks
    mlp_in = {"channels": 1, "height": 8, "width": 8, "bits": 8}
    square = [(64, 64, 2, 2, 1), (64, 64, 4, 4, 2), (64, 64, 8, 8, 8)]
    shrinking = [(32, 64, 1, 2, 1), (16, 32, 1, 2, 1), (16, 16, 4, 4, 1), (10, 16, 5, 8, 2)]
    return {
        "square": {"input": mlp_in, "layers": [
            FLATTEN, dlinear(64, 64, square), RELU, dlinear(64, 10, searched(10, 64)), ARGMAX]},
        "shrinking": {"input": mlp_in, "layers": [
            FLATTEN, dlinear(64, 10, shrinking), ARGMAX]},
        "bulging": {"input": {**mlp_in, "channels": 1}, "layers": [
            dconv(1, 8, [(12, 9, 4, 3, 1), (8, 12, 2, 3, 4)]), RELU, POOL2,
            FLATTEN, dlinear(128, 10, searched(10, 128)), ARGMAX]},
        "padded": {"input": {"channels": 1, "height": 6, "width": 6, "bits": 8}, "layers": [
            dconv(1, 3, chain_from_blocks([(2, 3), (2, 4)]), kernel=3, p=0), RELU,
            FLATTEN, dlinear(48, 5, searched(5, 48)), ARGMAX]},
        "all-debut": digits_debut(),
    }
