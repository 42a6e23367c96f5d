"""The shortcut audit of ``judgemind data stats``: how much of the labels something other than the motion predicts.

Each predictor is fitted on the training split and measured on the test split, from the annotations only:

- **duration**: clip length and the annotated stage durations (seconds) -> ridge -> AUC of a fall (any of
  ``FALL_ITEMS``), AUC per deduction item, Spearman rho of the final score;
- **code**: the action code alone (the training mean per code) -> the same AUCs (the score's rho is the code prior
  of :mod:`judgemind.data.stats`);
- **box**: per-stage statistics of the annotated athlete box (height, centre, change of size, share of frames with
  a box; as fractions of the frame) -> ridge -> the same;
- **fixed offset**: a segmentation that ignores the video (the lip at the training split's mean lip time, the
  touchdown a mean flight time later) -> flight AIoU@0.5 / @0.75 on test.

A benchmark without shortcuts keeps all of them weak (``TARGETS``); the model figures measured on it mean something
only against these. Ridge on standardised features and their squares: enough to find a threshold on one
duration (a monotone effect is all an AUC needs), not a model of the video.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from judgemind.evaluate import aiou, roc_auc, spearman
from judgemind.rules.names import STAGES

# The catalogue's landing falls: the athlete does not ride the landing out (docs/rules.md, the landing bands
# 0.0-1.0: body contact, sliding on the back without returning to the skis, a crash).
FALL_ITEMS = ("crash", "body_contact", "no_weight_on_skis")
# An item gets a per-item AUC when the training split has this many jumps with it and the test split at least 2.
MIN_POSITIVES = 5
# (key in the audit, comparison, bound): what "no shortcut" means on a benchmark (docs/synth.md).
TARGETS = (
    ("duration_fall_auc", "<=", 0.7),
    ("fixed_offset_aiou@0.75", "<=", 0.5),
    ("code_prior_rho", "<=", 0.5),
    ("fault_oracle_rho", ">=", 0.95),
)
_RIDGE = 1.0


def _round(v: float | None, nd: int = 4) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def has_item(rec, items: Sequence[str]) -> bool:
    return any(d.item in items for d in rec.deductions)


# --------------------------------------------------------------------------------------------------------------
# features


def duration_features(rec, fps: float) -> list[float]:
    """Clip length and the in-run, flight and landing durations of ``rec`` in seconds (nan where a stage is not
    annotated)."""
    clip = (rec.frames[1] - rec.frames[0]) / fps
    st = [(rec.stages[s][1] - rec.stages[s][0]) / fps if s in (rec.stages or {}) else math.nan for s in STAGES]
    return [clip, *st]


def box_features(rec, frame: float) -> list[float]:
    """Per stage: mean box height, mean centre x and y, log of the last over the first box height, share of the
    stage's frames with a box -- all as fractions of the frame (nan where the stage has no box)."""
    out: list[float] = []
    boxes = rec.boxes or {}
    for s in STAGES:
        if s not in (rec.stages or {}):
            out += [math.nan] * 5
            continue
        a, b = rec.stages[s]
        bx = np.array([boxes[k] for k in range(a, b) if k in boxes], dtype=np.float64).reshape(-1, 4)
        if not len(bx):
            out += [math.nan] * 4 + [0.0]
            continue
        h = np.maximum(bx[:, 3] - bx[:, 1], 1e-3)
        out += [
            float(h.mean()) / frame,
            float(0.5 * (bx[:, 0] + bx[:, 2]).mean()) / frame,
            float(0.5 * (bx[:, 1] + bx[:, 3]).mean()) / frame,
            math.log(h[-1] / h[0]),
            len(bx) / max(b - a, 1),
        ]
    return out


# --------------------------------------------------------------------------------------------------------------
# fitting


class _Ridge:
    """Ridge regression on standardised features and their squares; missing values (nan) take the training
    mean. ``x``: (N, F)."""

    def __init__(self, x_train: np.ndarray):
        x = np.asarray(x_train, dtype=np.float64)
        self.mean = np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=0)
        self.mean = np.where(np.isfinite(self.mean), self.mean, 0.0)
        z = self._fill(x)
        self.sd = z.std(axis=0)
        self.sd = np.where(self.sd > 1e-12, self.sd, 1.0)

    def _fill(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.where(np.isfinite(x), x, self.mean)

    def design(self, x: np.ndarray) -> np.ndarray:
        z = (self._fill(x) - self.mean) / self.sd
        return np.concatenate([z, z * z, np.ones((len(z), 1))], axis=1)

    def fit_predict(self, x_train: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        a = self.design(x_train)
        pen = _RIDGE * np.eye(a.shape[1])
        pen[-1, -1] = 0.0  # the intercept is not shrunk
        w = np.linalg.solve(a.T @ a + pen, a.T @ np.asarray(y, dtype=np.float64))
        return self.design(x_test) @ w


def _labels(recs, items: Sequence[str]) -> np.ndarray:
    return np.array([has_item(r, items) for r in recs], dtype=np.float64)


def _audited_items(train, test, catalogue) -> list[str]:
    out = []
    for item in catalogue.ids:
        n_tr = sum(has_item(r, (item,)) for r in train)
        n_te = sum(has_item(r, (item,)) for r in test)
        if n_tr >= MIN_POSITIVES and 2 <= n_te < len(test):
            out.append(item)
    return out


def _auc(pred: np.ndarray, y: np.ndarray) -> float | None:
    return _round(roc_auc(pred, y)) if 0 < y.sum() < len(y) else None


def _predictor(x_tr: np.ndarray, x_te: np.ndarray, train, test, items: Sequence[str]) -> dict[str, Any]:
    """Fall AUC, per-item AUC and score rho of ridge fits of ``x_tr`` (N_train, F) on the training labels."""
    model = _Ridge(x_tr)
    y_te_fall = _labels(test, FALL_ITEMS)
    fall = model.fit_predict(x_tr, _labels(train, FALL_ITEMS), x_te)
    score = model.fit_predict(x_tr, np.array([float(r.final_score) for r in train]), x_te)
    per = {}
    for item in items:
        per[item] = _auc(model.fit_predict(x_tr, _labels(train, (item,)), x_te), _labels(test, (item,)))
    return {
        "fall_auc": _auc(fall, y_te_fall),
        "score_rho": _round(spearman(score, [float(r.final_score) for r in test])),
        **_summary(per),
    }


def _summary(per: dict[str, float | None]) -> dict[str, Any]:
    known = {k: v for k, v in per.items() if v is not None}
    top = max(known, key=lambda k: known[k]) if known else None
    return {"item_auc": per, "max_item": top, "max_item_auc": known.get(top) if top else None}


def _code_predictor(train, test, items: Sequence[str]) -> dict[str, Any]:
    """The training rate of a label per action code (the overall rate for codes unseen in training)."""

    def rate(labels_tr: np.ndarray) -> np.ndarray:
        per: dict[str, list[float]] = {}
        for r, y in zip(train, labels_tr):
            per.setdefault(r.action_code, []).append(float(y))
        mean = {c: float(np.mean(v)) for c, v in per.items()}
        return np.array([mean.get(r.action_code, float(labels_tr.mean())) for r in test])

    per = {it: _auc(rate(_labels(train, (it,))), _labels(test, (it,))) for it in items}
    return {"fall_auc": _auc(rate(_labels(train, FALL_ITEMS)), _labels(test, FALL_ITEMS)), **_summary(per)}


def fixed_offset_segmentation(train, test, fps: float) -> dict[str, Any] | None:
    """Flight AIoU on test of the interval [mean lip, mean lip + mean flight] (seconds, training means)."""
    tr = [r for r in train if "flight" in (r.stages or {})]
    te = [r for r in test if "flight" in (r.stages or {})]
    if not tr or not te:
        return None
    lip = float(np.mean([r.stages["flight"][0] / fps for r in tr]))
    dur = float(np.mean([(r.stages["flight"][1] - r.stages["flight"][0]) / fps for r in tr]))
    true = np.array([[r.stages["flight"][0] / fps, r.stages["flight"][1] / fps] for r in te])
    res = aiou(np.tile([lip, lip + dur], (len(te), 1)), true)
    return {
        "lip_s": round(lip, 3),
        "flight_s": round(dur, 3),
        "aiou@0.5": round(res["aiou@0.5"], 4),
        "aiou@0.75": round(res["aiou@0.75"], 4),
        "mean_iou": round(res["mean_iou"], 4),
        "n": res["n"],
    }


def _targets(audit: dict, code_prior_rho, oracle_rho) -> list[dict]:
    values = {
        "duration_fall_auc": audit["duration"]["fall_auc"],
        "fixed_offset_aiou@0.75": (audit["fixed_offset"] or {}).get("aiou@0.75"),
        "code_prior_rho": code_prior_rho,
        "fault_oracle_rho": oracle_rho,
    }
    out = []
    for key, op, bound in TARGETS:
        v = values[key]
        met = None if v is None else (v <= bound if op == "<=" else v >= bound)
        out.append({"name": key, "value": v, "target": f"{op} {bound:g}", "met": met})
    return out


def shortcut_audit(train, test, catalogue, fps: float, frame: float | None, code_prior_rho, oracle_rho) -> dict:
    """The audit (see the module docstring) of a data set's train and test records at ``fps``; ``frame``: the
    frame height in pixels (None: no box predictor)."""
    items = _audited_items(train, test, catalogue)
    x_tr = np.array([duration_features(r, fps) for r in train])
    x_te = np.array([duration_features(r, fps) for r in test])
    audit: dict[str, Any] = {
        "fall_items": list(FALL_ITEMS),
        "falls_test": int(_labels(test, FALL_ITEMS).sum()),
        "duration": {"features": ["clip_s", *(f"{s}_s" for s in STAGES)], **_predictor(x_tr, x_te, train, test, items)},
        "code": _code_predictor(train, test, items),
        "box": None,
        "fixed_offset": fixed_offset_segmentation(train, test, fps),
    }
    if frame and any(r.boxes for r in train) and any(r.boxes for r in test):
        b_tr = np.array([box_features(r, frame) for r in train])
        b_te = np.array([box_features(r, frame) for r in test])
        audit["box"] = _predictor(b_tr, b_te, train, test, items)
    audit["targets"] = _targets(audit, code_prior_rho, oracle_rho)
    return audit


def format_audit(a: dict) -> list[str]:
    """Lines of the ``data stats`` summary."""

    def n(v, spec=".2f"):
        return "n/a" if v is None else format(v, spec)

    def pred(name: str, what: str, p: dict | None, rho: bool = True) -> str:
        if p is None:
            return f"    {name:<9}{what}: no boxes in the records"
        top = f"; highest item AUC {p['max_item']} {n(p['max_item_auc'])}" if p.get("max_item") else ""
        r = f"; score rho {n(p.get('score_rho'))}" if rho else ""
        return f"    {name:<9}{what} -> fall AUC {n(p['fall_auc'])}{r}{top}"

    lines = [
        f"  shortcuts (fitted on train, measured on test; weak is good; {a['falls_test']} test falls = "
        f"{'/'.join(a['fall_items'])})",
        pred("duration", "clip and stage seconds", a["duration"]),
        pred("code", "action code alone", a["code"], rho=False),
        pred("box", "athlete box per stage", a["box"]),
    ]
    fo = a["fixed_offset"]
    if fo is not None:
        lines.append(
            f"    {'offset':<9}lip at {fo['lip_s']:.2f} s, touchdown {fo['flight_s']:.2f} s later -> flight AIoU@0.5 "
            f"{fo['aiou@0.5']:.3f}, @0.75 {fo['aiou@0.75']:.3f}"
        )
    marks = {True: "met", False: "NOT MET", None: "n/a"}
    lines.append(
        "    targets  "
        + "; ".join(f"{t['name']} {n(t['value'], '.3f')} ({t['target']}): {marks[t['met']]}" for t in a["targets"])
    )
    return lines
