"""The post-training PECAN-A export: a valid pecan-a artifact whose golden logits follow the
float model's on its output scale, and a clear refusal of other layers."""

import numpy as np
import pytest
import torch
from torch import nn

from edgeforge.models.data_digits import load_digits
from edgeforge.models.pecan.export_angle import export_angle_mlp
from edgeforge.models.pecan.pq_angle import PQALinear
from edgeforge.schemes.network import parse_network
from edgeforge.sim.golden.network import forward


def test_export_follows_the_float_model():
    torch.manual_seed(0)
    images = load_digits("train")[0][:200]
    x = torch.from_numpy(images.reshape(200, -1).astype(np.float32) / 256)
    model = nn.Sequential(nn.Flatten(), PQALinear(nn.Linear(64, 8), 16, 4), nn.ReLU(),
                          PQALinear(nn.Linear(8, 3), 4, 2))
    for m in model:
        if isinstance(m, PQALinear):
            m.init_codebook(x if m.linear.in_features == 64 else torch.relu(model[1](x)))
    art = export_angle_mlp(model, images)
    net = parse_network(art.config)
    assert [l.fields.get("transform") for l in net.layers] == [None, "pecan-a", None,
                                                               "pecan-a", None]
    logits = forward(art, images)[-2]
    with torch.no_grad():
        ref = model(x).numpy()
    # The golden logits are the float ones on a power-of-two scale (2**a_out), within the
    # tables' and the 8-bit activations' precision.
    scale = (logits * ref).sum() / (ref * ref).sum()
    assert 2 ** round(np.log2(scale)) == pytest.approx(scale, rel=0.05)
    assert np.abs(logits / scale - ref).max() < 0.05 * np.abs(ref).max()


def test_other_layers_are_refused():
    with pytest.raises(ValueError, match=r"^model must hold PQALinear and ReLU layers, got "
                                         r"Linear$"):
        export_angle_mlp(nn.Sequential(nn.Linear(64, 10)), load_digits("train")[0][:4])
