"""Maps the top-level folders of the design card under the `edgeforge` namespace.

`hw/` installs as `edgeforge.hw`, `models/` as `edgeforge.models` and so on, so
that installing edgeforge never puts a bare `models` or `sim` package into
site-packages. Sub-packages are discovered, not listed, so a new scheme folder
needs no change here.
"""

from setuptools import find_packages, setup

FOLDERS = {"edgeforge": "edgeforge", "edgeforge.hw": "hw", "edgeforge.models": "models",
           "edgeforge.sim": "sim", "edgeforge.bench": "bench"}

packages = []
for namespace, folder in FOLDERS.items():
    packages.append(namespace)
    packages += [f"{namespace}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=FOLDERS,
      package_data={"edgeforge.models.hklut": ["pretrained/*.npz", "pretrained/*.md"],
                    "edgeforge.models.network": ["pretrained/*.npz", "pretrained/*.md"],
                    "edgeforge.models.srlut": ["pretrained/*.npz", "pretrained/*.md"],
                    "edgeforge.models.bicubic": ["shipped/*.npz"]})
