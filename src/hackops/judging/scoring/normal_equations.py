"""The judge-effect model's linear algebra (`ranking.fit_judge_effect` estimates, this solves):
evaluations as arrays (`Data`), the connected components of the judge-submission graph, the
normal equations of `score = quality_s + offset_j (+ (scale_j - 1)·(quality_s - c))` for given
judge weights and ridges, solved with the submissions eliminated, and the posterior SDs of the
offsets and scales of a fit."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

SubmissionId = Hashable
JudgeId = Hashable
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]

_SCALE_BOUNDS = (0.1, 10.0)


@dataclass(frozen=True, slots=True)
class Data:
    """Evaluations as arrays: `sub[i]`, `judge[i]` index `submissions` and `judges`; `x[i]` is
    the raw score. Every listed submission and judge has at least one evaluation."""

    submissions: list[SubmissionId]
    judges: list[JudgeId]
    sub: Ints
    judge: Ints
    x: Floats


def graph_components(data: Data) -> tuple[Ints, Ints, int]:
    """Connected-component label of every submission and judge, and how many there are."""
    n_s, n_j = len(data.submissions), len(data.judges)
    graph = sp.coo_matrix(
        (np.ones(len(data.x)), (data.sub, n_s + data.judge)), shape=(n_s + n_j, n_s + n_j)
    )
    count, labels = sp.csgraph.connected_components(graph, directed=False)
    labels = np.asarray(labels, dtype=np.intp)
    return labels[:n_s], labels[n_s:], int(count)


def offset_system(
    data: Data, scale: Floats, weight: Floats, ridge_offset: float
) -> tuple[Floats, sp.csr_matrix, sp.csr_matrix, Floats]:
    """The normal equations' blocks: the submissions' diagonal, the submission x judge block
    (and it scaled by the diagonal's inverse), and the offsets' Schur complement, which is also
    their marginal posterior precision (`uncertainty`)."""
    n_s, n_j = len(data.submissions), len(data.judges)
    g = scale[data.judge]
    w = weight[data.judge]
    d_q = np.bincount(data.sub, w * g * g, n_s)
    d_b = np.bincount(data.judge, w, n_j) + ridge_offset
    cross = sp.csr_matrix((w * g, (data.sub, data.judge)), shape=(n_s, n_j))
    scaled = sp.diags(1.0 / d_q) @ cross
    schur = np.diag(d_b) - (cross.T @ scaled).toarray()
    return np.asarray(d_q, dtype=np.float64), cross, scaled, np.asarray(schur, dtype=np.float64)


def solve_quality_and_offsets(
    data: Data,
    y: Floats,
    scale: Floats,
    weight: Floats,
    ridge_offset: float,
    labels: tuple[Ints, Ints],
) -> tuple[Floats, Floats]:
    """Weighted ridge least squares for (u, b) in y = b_j + scale_j · u_s, scale fixed.

    Normal equations, with the submission block (diagonal) eliminated: a dense judges x judges
    Schur complement. The ridge on the offsets makes it positive definite per component and puts
    the offsets' mean at 0 in each component (shifting all b by c and all u by -c leaves the
    residuals unchanged, and Σ(b_j + c)² is smallest at mean(b + c) = 0; with scales the shift
    is b - scale·h, u + h, and the optimum has Σ scale_j·b_j = 0). That condition is re-imposed
    exactly afterwards, as the solve can lose it when the noise is tiny and the weights huge.
    """
    n_s, n_j = len(data.submissions), len(data.judges)
    g = scale[data.judge]
    w = weight[data.judge]
    d_q, cross, scaled, schur = offset_system(data, scale, weight, ridge_offset)
    r_q = np.bincount(data.sub, w * g * y, n_s)
    r_b = np.bincount(data.judge, w * y, n_j)
    b = np.linalg.solve(schur, r_b - scaled.T @ r_q)
    u = (r_q - cross @ b) / d_q
    sub_label, judge_label = labels
    shift = np.bincount(judge_label, scale * b) / np.bincount(judge_label, scale * scale)
    b = b - scale * shift[judge_label]
    u = u + shift[sub_label]
    return np.asarray(u, dtype=np.float64), np.asarray(b, dtype=np.float64)


def fit(
    data: Data,
    weight: Floats,
    ridge_offset: float,
    ridge_scale: float | None,
    labels: tuple[Ints, Ints],
) -> tuple[Floats, Floats, Floats]:
    """(u, offsets, scales); scales by alternating least squares when ridge_scale is given."""
    y = data.x - data.x.mean()
    scale = np.ones(len(data.judges))
    u, b = solve_quality_and_offsets(data, y, scale, weight, ridge_offset, labels)
    if ridge_scale is None:
        return u, b, scale
    for _ in range(100):
        # Per judge, ridge regression of y on (1, u): a 2 x 2 system with the prior scale 1.
        w = weight[data.judge]
        uj = u[data.sub]
        n_j = len(data.judges)
        s_w = np.bincount(data.judge, w, n_j)
        s_u = np.bincount(data.judge, w * uj, n_j)
        s_uu = np.bincount(data.judge, w * uj * uj, n_j)
        s_y = np.bincount(data.judge, w * y, n_j)
        s_uy = np.bincount(data.judge, w * uj * y, n_j)
        a11, a12, a22 = s_w + ridge_offset, s_u, s_uu + ridge_scale
        new_scale = (a11 * (s_uy + ridge_scale) - a12 * s_y) / (a11 * a22 - a12 * a12)
        new_scale = np.clip(new_scale, *_SCALE_BOUNDS)
        # Gauge: geometric mean scale 1 per component (u ↦ g·u, scale ↦ scale/g fits the same).
        judge_label = labels[1]
        log_mean = np.bincount(judge_label, np.log(new_scale)) / np.bincount(judge_label)
        new_scale = new_scale / np.exp(log_mean[judge_label])
        change = float(np.max(np.abs(new_scale - scale)))
        scale = new_scale
        u, b = solve_quality_and_offsets(data, y, scale, weight, ridge_offset, labels)
        if change < 1e-9:
            break
    return u, b, scale


def uncertainty(
    data: Data,
    u: Floats,
    scale: Floats,
    weight: Floats,
    ridge_offset: float,
    ridge_scale: float | None,
) -> tuple[Floats, Floats]:
    """Posterior SDs of the offsets and scales of the final fit, its hyperparameters fixed.

    Offsets: the diagonal of the inverse Schur complement (the qualities integrated out, the
    Gaussian prior b_j ~ N(0, 1/ridge_offset) included). Scales: from each judge's 2 x 2
    regression of the same alternating fit, given the qualities — it leaves out how unsure the
    qualities are, so it is a lower bound."""
    _, _, _, schur = offset_system(data, scale, weight, ridge_offset)
    offset_se = np.sqrt(np.clip(np.diag(np.linalg.inv(schur)), 0.0, None))
    if ridge_scale is None:
        return offset_se, np.zeros(len(data.judges))
    n_j = len(data.judges)
    w = weight[data.judge]
    uj = u[data.sub]
    a11 = np.bincount(data.judge, w, n_j) + ridge_offset
    a12 = np.bincount(data.judge, w * uj, n_j)
    a22 = np.bincount(data.judge, w * uj * uj, n_j) + ridge_scale
    return offset_se, np.sqrt(np.clip(a11 / (a11 * a22 - a12 * a12), 0.0, None))
