"""Human vs automated judge: how well each judge's score follows the reviewers' labels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reviewer.domain import stats
from reviewer.domain.figures import FAILURE, CalibrationPoint, JudgeAgreement
from reviewer.domain.rubric import DimensionKind
from reviewer.services.analytics.load import SUBMITTED, Data


def _round(v: float | None) -> float | None:
    return None if v is None or np.isnan(v) else round(float(v), 6)


def judges(data: Data) -> list[JudgeAgreement]:
    """Per judge: against every ordinal dimension (rank and linear correlation, mean judge
    score per human value) and against "any failure tag" (AUC, agreement and kappa at the
    threshold 0.5 for scores in 0…1, else the middle of the observed range)."""
    if data.scores.empty:
        return []
    r = data.reviews
    # the reviews of scored sessions only (a sample, often), before the merge copies them
    scored = r["session_id"].isin(data.scores["session_id"].unique()).to_numpy()
    sub = r[scored & (r["status"].to_numpy() == SUBMITTED)]
    m = sub.merge(data.scores, on="session_id")
    ordinal = [d for d in data.dims if d.kind is DimensionKind.ORDINAL]
    out = []
    for judge, g in m.groupby("judge", sort=True):
        score = g["score"].to_numpy(dtype=float)
        for d in ordinal:
            human = d.numbers(g[d.column])
            ok = ~np.isnan(human)
            if not ok.any():
                continue
            cal = (
                pd.DataFrame({"h": human[ok], "s": score[ok]})
                .groupby("h", sort=True)["s"]
                .agg(["size", "mean"])
            )
            names = dict(zip(d.numeric.tolist(), d.values, strict=True))
            out.append(
                JudgeAgreement(
                    judge=str(judge),
                    dimension=d.name,
                    reviews=int(ok.sum()),
                    spearman=_round(stats.correlation(human, score, method="spearman")),
                    pearson=_round(stats.correlation(human, score, method="pearson")),
                    calibration=[
                        CalibrationPoint(
                            human=names.get(float(h), str(h)),
                            reviews=int(size),
                            mean_judge=round(float(mean), 6),
                        )
                        for h, size, mean in zip(cal.index, cal["size"], cal["mean"], strict=True)
                    ],
                )
            )
        if data.has_taxonomy:
            out.append(_failure(str(judge), g["failed"].to_numpy() == 0, score))
    return out


def _failure(judge: str, passed: np.ndarray, score: np.ndarray) -> JudgeAgreement:
    lo, hi = float(score.min()), float(score.max())
    threshold = 0.5 if lo >= 0.0 and hi <= 1.0 else (lo + hi) / 2
    says_pass = score >= threshold
    table = np.array(
        [
            [np.sum(says_pass & passed), np.sum(says_pass & ~passed)],
            [np.sum(~says_pass & passed), np.sum(~says_pass & ~passed)],
        ]
    )
    kp = stats.cohen_kappa(table)
    as_number = passed.astype(float)
    return JudgeAgreement(
        judge=judge,
        dimension=FAILURE,
        reviews=len(score),
        spearman=_round(stats.correlation(as_number, score, method="spearman")),
        pearson=_round(stats.correlation(as_number, score, method="pearson")),
        auc=_round(stats.auc(score, passed)),
        threshold=round(threshold, 6),
        agreement_at_threshold=round(float(np.mean(says_pass == passed)), 6),
        kappa_at_threshold=None if kp is None else round(kp.kappa, 6),
        calibration=[
            CalibrationPoint(
                human=label, reviews=int(mask.sum()), mean_judge=round(float(score[mask].mean()), 6)
            )
            for label, mask in (("no", passed), ("yes", ~passed))
            if mask.any()
        ],
    )
