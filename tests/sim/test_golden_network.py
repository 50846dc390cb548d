"""Golden network model vs a direct loop implementation of the spec, on random small networks with
weights at the int extremes; arg-max ties; requantisation at the saturation extremes."""

import numpy as np
import pytest

from edgeforge.schemes.network import parse_network, random_artifact, random_config
from edgeforge.sim.golden.network import argmax, classify, forward, requantise


def loop_forward(artifact, image):
    """The spec read literally: one output value at a time, Python integers."""
    net = parse_network(artifact.config)
    x = image.astype(object)
    for layer in net.layers:
        f = layer.fields
        if layer.kind in ("conv2d", "linear"):
            w = artifact.arrays[f"l{layer.index}_weight"].astype(int)
            b = artifact.arrays[f"l{layer.index}_bias"].astype(int)
            bits, shift = f["out_bits"], f["shift"]
            lo, hi = (0, 2 ** bits - 1) if layer.relu else (-2 ** (bits - 1), 2 ** (bits - 1) - 1)

            def rq(acc):
                y = (acc + 2 ** (shift - 1)) // 2 ** shift if shift else acc
                return min(max(y, lo), hi)
            if layer.kind == "conv2d":
                c, h, wd = x.shape
                k, p = f["kernel"], f["padding"]
                ho, wo = h + 2 * p - k + 1, wd + 2 * p - k + 1
                y = np.zeros((f["out_channels"], ho, wo), object)
                for o in range(f["out_channels"]):
                    for i in range(ho):
                        for j in range(wo):
                            acc = int(b[o])
                            for ci in range(c):
                                for dy in range(k):
                                    for dx in range(k):
                                        r, s = i - p + dy, j - p + dx
                                        if 0 <= r < h and 0 <= s < wd:
                                            acc += int(w[o, ci, dy, dx]) * int(x[ci, r, s])
                            y[o, i, j] = rq(acc)
            else:
                y = np.array([rq(int(b[o]) + sum(int(w[o, i]) * int(x[i]) for i in range(len(x))))
                              for o in range(f["out_features"])], object)
            x = y
        elif layer.kind == "maxpool":
            s = f["size"]
            c, h, wd = x.shape
            x = np.array([[[max(x[ci, i * s + a, j * s + bb] for a in range(s) for bb in range(s))
                            for j in range(wd // s)] for i in range(h // s)] for ci in range(c)],
                         object)
        elif layer.kind == "flatten":
            x = np.array([x[ci, i, j] for ci in range(x.shape[0]) for i in range(x.shape[1])
                          for j in range(x.shape[2])], object)
        elif layer.kind == "argmax":
            best = 0
            for j in range(len(x)):
                if x[j] > x[best]:
                    best = j
            return list(x), best
    raise AssertionError("network without argmax")


@pytest.mark.parametrize("seed", range(12))
def test_golden_matches_the_loop_reading_of_the_spec(seed):
    art = random_artifact(random_config(seed), seed=seed, extremes=0.5)
    net = parse_network(art.config)
    rng = np.random.default_rng(seed)
    images = np.concatenate([np.zeros((1, *net.input_shape), np.uint8),
                             np.full((1, *net.input_shape), 255, np.uint8),
                             rng.integers(0, 256, size=(3, *net.input_shape), dtype=np.uint8)])
    got = classify(art, images)
    for n, image in enumerate(images):
        logits, cls = loop_forward(art, image)
        assert list(got.logits[n]) == logits and got.classes[n] == cls


def test_activations_reach_both_clip_ends():
    # At the int extremes some outputs saturate on both sides: the clip is exercised.
    art = random_artifact(random_config(4), seed=4, extremes=1.0)
    net = parse_network(art.config)
    images = np.random.default_rng(0).integers(0, 256, size=(64, *net.input_shape), dtype=np.uint8)
    outs = forward(art, np.concatenate([images, np.full((1, *net.input_shape), 255, np.uint8)]))
    first = net.layers[0]
    bits = first.fields["out_bits"]
    lo, hi = (0, 2 ** bits - 1) if first.relu else (-2 ** (bits - 1), 2 ** (bits - 1) - 1)
    assert outs[0].min() == lo and outs[0].max() == hi


@pytest.mark.parametrize("acc, shift, expected", [
    (5, 1, 3), (-5, 1, -2), (-6, 1, -3), (7, 2, 2), (6, 2, 2), (-6, 2, -1), (-7, 2, -2),
    (10 ** 9, 4, 127), (-10 ** 9, 4, -128), (127, 0, 127), (128, 0, 127), (-129, 0, -128)])
def test_requantise_rounds_half_up_and_saturates(acc, shift, expected):
    assert requantise(np.array([acc]), shift, -128, 127)[0] == expected


def test_requantise_unsigned_clip():
    assert list(requantise(np.array([-1, 0, 255 << 3, 256 << 3]), 3, 0, 255)) == [0, 0, 255, 255]


@pytest.mark.parametrize("logits, expected", [
    ([3, 3, 3], 0), ([1, 5, 5], 1), ([-2, -7, -2, -1], 3), ([0, -1, 0], 0),
    ([-128, -128, -128, -128], 0), ([4, 2, 7, 7, 7], 2)])
def test_argmax_ties_go_to_the_lowest_index(logits, expected):
    assert argmax(np.array([logits]))[0] == expected


def test_images_are_checked():
    art = random_artifact(random_config(1), seed=1)
    shape = parse_network(art.config).input_shape
    with pytest.raises(ValueError, match=r"^images must be uint8 of shape "):
        classify(art, np.zeros(shape, np.int16))
