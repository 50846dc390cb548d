"""Images as raster streams: the encoding an image engine's design shares (HKLUT, bicubic).

An image design streams a uint8 ``(H, W)`` grey or ``(H, W, 3)`` RGB image as channel
planes one after another, one 8-bit pixel a beat (or with RGB lanes, one frame whose
beats carry a pixel's three channels), and gets ``scale`` times larger frames back,
``out_pixels`` pixels a beat. :class:`ImageFrames` holds that encoding once, with the
frame options' checks, the AXI4-Stream video geometry and the ``axis`` refusal of
``verify``; a design mixes it in and sets the attributes it reads (:meth:`_set_frames`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["CHANNELS", "ImageFrames"]

#: Channel counts of an image design: grey, or RGB.
CHANNELS = (1, 3)


class ImageFrames:
    """Mixin of a :class:`~edgeforge.design.Design` of an image engine.

    The design sets ``width``, ``height`` (input frame), ``channels`` (1 or 3),
    ``out_pixels``, ``lanes`` (channels a beat: 1, or 3 with RGB lanes),
    ``planes_per_image`` (frames the engine streams per image), :attr:`scale`,
    ``buffer_ram`` and ``axis``: :meth:`_set_frames` sets them all.
    """

    width: int
    height: int
    channels: int
    out_pixels: int
    lanes: int = 1
    planes_per_image: int = 1
    scale: int

    @staticmethod
    def check_frames(channels, axis, rgb_lanes=False) -> None:
        """Refuse a channel count not in :data:`CHANNELS`, an ``axis`` or ``rgb_lanes`` that
        is not a bool, and ``rgb_lanes`` without 3 channels (before anything is built)."""
        if channels not in CHANNELS:
            raise ValueError(f"channels must be one of {CHANNELS}, got {channels!r}")
        for name, value in (("rgb_lanes", rgb_lanes), ("axis", axis)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, got {value!r}")
        if rgb_lanes and channels != 3:
            raise ValueError(f"rgb_lanes needs channels=3, got channels={channels!r}")

    def _set_frames(self, *, width: int, height: int, channels: int, out_pixels: int,
                    buffer_ram: str, axis: bool, scale: int, rgb_lanes: bool = False) -> None:
        self.width, self.height, self.channels = width, height, channels
        self.out_pixels, self.buffer_ram, self.axis = out_pixels, buffer_ram, axis
        # Frames the engine streams per image: each channel plane, or one of RGB beats.
        self.planes_per_image = 1 if rgb_lanes else channels
        self.lanes = channels if rgb_lanes else 1
        self.scale = scale

    @property
    def rgb_lanes(self) -> bool:
        return self.lanes > 1

    def video_geometry(self) -> dict[str, int]:
        """Beats per line and lines per frame in and out (a frame is one channel plane, or
        with ``rgb_lanes`` one RGB image)."""
        return {"in_beats_per_line": self.width, "in_lines": self.height,
                "out_beats_per_line": self.width * self.scale // self.out_pixels,
                "out_lines": self.height * self.scale}

    def verify(self, inputs=None, **kwargs):
        if self.axis:
            raise ValueError("verify drives the i/o stream ports, so it needs axis=False, got True")
        return super().verify(inputs, **kwargs)

    def _check_input(self, x) -> np.ndarray:
        shape = (self.height, self.width) + ((3,) if self.channels == 3 else ())
        if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.shape != shape:
            got = (x.dtype, x.shape) if isinstance(x, np.ndarray) else type(x).__name__
            raise ValueError(f"input must be a uint8 array of shape {shape!r}, got {got!r}")
        return x

    def _planes(self, x: np.ndarray) -> np.ndarray:
        """What the engine streams, ``(frames, H, W, lanes)``: channel planes one after
        another, or one frame whose pixels carry every channel (``rgb_lanes``)."""
        if x.ndim == 2:
            return x[None, ..., None]
        return x[None] if self.rgb_lanes else np.moveaxis(x, 2, 0)[..., None]

    def encode_inputs(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        planes = [self._planes(self._check_input(x)).reshape(-1) for x in xs]
        return np.concatenate(planes).astype(np.uint8).reshape(-1, self.lanes)

    def encode_outputs(self, ys: Sequence[np.ndarray]) -> np.ndarray:
        # Pixel k (lane c) of a beat in bits [8(k L + c) + 7 : 8(k L + c)]: little-endian
        # bytes are the pixels in order, each pixel's lanes together.
        flat = np.concatenate([self._planes(np.asarray(y, np.uint8)).reshape(-1) for y in ys])
        return flat.reshape(-1, self.out_pixels * self.lanes)

    def decode_outputs(self, beats: np.ndarray, count: int) -> list[np.ndarray]:
        """Output beats back into ``count`` images (the inverse of :meth:`encode_outputs`)."""
        s = self.scale
        frames = np.asarray(beats, np.uint8).reshape(count, self.planes_per_image,
                                                     self.height * s, self.width * s, self.lanes)
        if self.channels == 1:
            return [f[0, ..., 0] for f in frames]
        return [np.ascontiguousarray(f[0] if self.rgb_lanes else np.moveaxis(f[..., 0], 0, 2))
                for f in frames]

    def test_inputs(self, seed: int = 0) -> list[np.ndarray]:
        """Flat 0 and 255, a checkerboard, a ramp, seeded random and a photo crop."""
        h, w = self.height, self.width
        shape = (h, w) + ((3,) if self.channels == 3 else ())
        yy, xx = np.indices((h, w))
        def full(plane):
            plane = plane.astype(np.uint8)
            return np.repeat(plane[..., None], 3, axis=2) if self.channels == 3 else plane
        rng = np.random.default_rng(seed)
        images = [np.zeros(shape, np.uint8), np.full(shape, 255, np.uint8),
                  full(((yy + xx) % 2) * 255), full((xx * 255) // max(1, w - 1)),
                  rng.integers(0, 256, size=shape, dtype=np.uint8)]
        photo = self._photo_crop()
        if photo is not None:
            images.append(photo)
        return images

    def _photo_crop(self) -> np.ndarray | None:
        from edgeforge.models.data import sample_images
        photos = sample_images("test")
        if not photos:
            return None
        img = next(iter(photos.values()))
        if img.shape[0] < self.height or img.shape[1] < self.width:
            return None
        y0, x0 = (img.shape[0] - self.height) // 2, (img.shape[1] - self.width) // 2
        crop = np.ascontiguousarray(img[y0:y0 + self.height, x0:x0 + self.width])
        return crop if self.channels == 3 else np.ascontiguousarray(crop[..., 0])
