"""Fixtures of the model-side tests."""

import pytest


@pytest.fixture
def torch_one_thread():
    # Tiny tensors: extra threads only add synchronisation, which is very slow on
    # a loaded 2-core machine.
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
