"""Alternating least squares: a DeBut chain's nonzeros fitted to a trained dense matrix.

As in the DeBut paper (Lin et al., NeurIPS 2021), all factors but one are held fixed and
the free factor's nonzeros are the least-squares solution against the dense matrix ``W``;
one sweep solves factor 1 to N (input side first), then N to 1. With ``L = R_N ...
R_{k+1}`` and ``P = R_{k-1} ... R_1`` the product is linear in factor ``k``'s nonzeros,
``M = sum_{(u, v)} theta_uv L[:, u] P[v, :]``, so the normal equations are

    sum_{(u', v')} (L^T L)[u, u'] (P P^T)[v, v'] theta_u'v' = (L^T W P^T)[u, v]

over the factor's ``p s`` nonzero positions ``(u, v)``: a ``p s`` square system, however
large ``W`` is (the Khatri-Rao structure of the paper, without forming it). Only the
layer's own block of the padded product is fitted (rows ``< outputs``, columns ``<
inputs``); a nonzero that reaches only padding is left at 0 (the minimum-norm solution).

The fit is coarse for a chain far below the dense layer's parameters (the paper reports
relative errors 0.63 to 0.99 for its chains); it is a start for the fine-tune, which does
the real work. Pure NumPy, float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeforge.schemes.network_debut import Factor, check_chain

__all__ = ["ALSResult", "theta_from_rows", "chain_dense", "relative_error", "als_fit", "balance"]


def theta_from_rows(factor: Factor, values: np.ndarray) -> np.ndarray:
    """The nonzeros ``(a, t, r, s)`` from their ``(p, s)`` row layout (inverse of
    :meth:`~edgeforge.schemes.network_debut.Factor.row_values`)."""
    f = factor
    j = np.arange(f.p)
    b, i, d = j // (f.r * f.t), (j // f.t) % f.r, j % f.t
    theta = np.zeros(f.theta_shape, np.asarray(values).dtype)
    theta[b, d, i, :] = np.asarray(values).reshape(f.p, f.s)
    return theta


def chain_dense(factors, thetas) -> np.ndarray:
    """The padded ``(p_N, q_1)`` product ``R_N ... R_1``."""
    m = np.eye(factors[0].q)
    for f, theta in zip(factors, thetas):
        m = f.dense(np.asarray(theta, np.float64)) @ m
    return m


def relative_error(factors, thetas, target: np.ndarray) -> float:
    """``||M - W||_F / ||W||_F`` on the layer's block of the product."""
    m, n = target.shape
    norm = np.linalg.norm(target)
    err = np.linalg.norm(chain_dense(factors, thetas)[:m, :n] - target)
    return float(err / norm) if norm > 0 else float(err)


@dataclass(frozen=True)
class ALSResult:
    """The fitted nonzeros (one ``(a, t, r, s)`` float64 array a factor) and the relative
    error before the first sweep and after each sweep."""
    thetas: tuple[np.ndarray, ...]
    errors: tuple[float, ...]

    @property
    def error(self) -> float:
        return self.errors[-1]


def _solve_factor(factors, thetas, k: int, target: np.ndarray) -> np.ndarray:
    m, n = target.shape
    f = factors[k]
    left = np.eye(factors[-1].p)
    for g, theta in zip(factors[k + 1:][::-1], thetas[k + 1:][::-1]):
        left = left @ g.dense(theta)
    right = np.eye(factors[0].q)
    for g, theta in zip(factors[:k], thetas[:k]):
        right = g.dense(theta) @ right
    left, right = left[:m], right[:, :n]                          # (m, p_k), (q_k, n)
    u = np.repeat(np.arange(f.p), f.s)
    v = f.rows().ravel()
    ll, pp = left.T @ left, right @ right.T
    gram = ll[np.ix_(u, u)] * pp[np.ix_(v, v)]
    rhs = (left.T @ target @ right.T)[u, v]
    values = np.linalg.lstsq(gram, rhs, rcond=1e-12)[0]
    return theta_from_rows(f, values)


def balance(thetas) -> list[np.ndarray]:
    """The same product with every factor at the same RMS (the geometric mean): ALS leaves
    the scale between factors arbitrary, and the fine-tune and each factor's power-of-two
    scale work best on factors of like size."""
    rms = [float(np.sqrt(np.mean(np.square(t)))) for t in thetas]
    if not all(r > 0 for r in rms):
        return [np.array(t) for t in thetas]
    g = float(np.exp(np.mean(np.log(rms))))
    return [np.asarray(t) * (g / r) for t, r in zip(thetas, rms)]


def als_fit(factors, target, *, sweeps: int = 5, seed: int = 0, thetas=None) -> ALSResult:
    """Fit a chain's nonzeros to the dense matrix ``target`` (``outputs x inputs``).

    Parameters
    ----------
    factors : sequence of (p, q, r, s, t) or Factor
        The chain, input side first (checked against ``target``'s shape).
    target : array (outputs, inputs)
        The trained dense layer (a conv's kernel as ``(C_out, k k C_in)``, tap-major).
    sweeps : int
        Left-to-right-and-back sweeps (the paper: 5 for LeNet-sized layers).
    seed : int
        Seeds the random start (each factor normal with variance ``1/s``) unless
        ``thetas`` is given.
    thetas : sequence of arrays, optional
        The start.

    Returns
    -------
    ALSResult
        Balanced nonzeros (:func:`balance`) and the relative errors.

    Raises
    ------
    ValueError
        For an invalid chain, a target that is not a 2-d finite matrix, or a bad count.
    """
    target = np.asarray(target, np.float64)
    if target.ndim != 2 or not np.isfinite(target).all():
        raise ValueError(f"target must be a finite (outputs, inputs) matrix, got shape "
                         f"{target.shape!r}")
    if not isinstance(sweeps, int) or isinstance(sweeps, bool) or sweeps < 0:
        raise ValueError(f"sweeps must be an integer of at least 0, got {sweeps!r}")
    factors = check_chain(factors, target.shape[1], target.shape[0])
    if thetas is None:
        rng = np.random.default_rng(seed)
        thetas = [rng.standard_normal(f.theta_shape) / np.sqrt(f.s) for f in factors]
    thetas = [np.asarray(t, np.float64).reshape(f.theta_shape) for f, t in zip(factors, thetas)]
    errors = [relative_error(factors, thetas, target)]
    order = list(range(len(factors))) + list(range(len(factors) - 1, -1, -1))
    for _ in range(sweeps):
        for k in order:
            thetas[k] = _solve_factor(factors, thetas, k, target)
        errors.append(relative_error(factors, thetas, target))
    return ALSResult(tuple(balance(thetas)), tuple(errors))
