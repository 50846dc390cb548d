"""Train and save the shipped networks, ``pretrained/digits-ref.npz`` and ``digits-mlp.npz``.

Run::

    python -m edgeforge.models.network.make_pretrained

Each preset is trained once with the default :class:`~.train.TrainConfig`
(its seed, 0, is the config's default, not a pick among seeds), exported and
saved; the same command rewrites the same bytes. The folder's README
records the hashes and accuracies this prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...artifact import save
from . import PRETRAINED
from .export import export_network
from .train import TrainConfig, train_network

__all__ = ["COMMAND", "make", "main"]

COMMAND = "python -m edgeforge.models.network.make_pretrained"


def make(out_dir: Path | None = None, config: TrainConfig = TrainConfig(), *,
         progress: bool = True) -> dict[str, Path]:
    """Train, export and save every preset of :data:`PRETRAINED`; return the paths written.

    Parameters
    ----------
    out_dir : pathlib.Path, optional
        Where to write ``<preset>.npz``; default: the package's ``pretrained/``.
    config : TrainConfig
        Schedule and seed of every preset.
    progress : bool
        Show each run's progress bar.
    """
    paths = {}
    for name, default in PRETRAINED.items():
        result = train_network(name, config, progress=progress)
        artifact = export_network(result, command=f"{COMMAND} --seed {config.seed}")
        paths[name] = save(artifact, (out_dir / default.name) if out_dir else default)
        print(f"{name}: {paths[name]}  {artifact.content_hash}  float {result.float_accuracy:.4f}"
              f"  train {result.train_accuracy:.4f}  {result.seconds:.1f} s")
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--out", type=Path, default=None,
                        help="folder for the .npz files (default: the package's pretrained/)")
    args = parser.parse_args(argv)
    make(args.out, TrainConfig(seed=args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
