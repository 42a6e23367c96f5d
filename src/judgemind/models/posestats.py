"""Baseline ``posestats``: per-stage statistics of the tokens -> ridge regression (Pirsiavash et al., ECCV 2014 style).

The field's oldest AQA baseline -- hand-made pose features and a linear regressor -- on the feature cache (made for
the ``skeleton`` tokens: joints, angles, separations, velocities per step; it runs on any cache):

* **features** (per video): for each stage (take-off, flight, landing) and each token source (foreground, global),
  the mean, std, min and max over the stage's steps; then the action-code features and DD / mean DD appended:
  ``3 x 4 x (Df + Dg) + C + 1`` numbers, standardised with the training split's mean and std.
* **stage windows**: the ground-truth ``bounds`` when fitting (training split); at test time predicted: a per-step
  multinomial logistic stage classifier (token, its +-2-step local mean and the relative position, L2-penalised,
  fitted by L-BFGS on the training steps) and the exact ordered decoding of
  :func:`judgemind.models.judgemind.decode_stages` (take-off < flight < landing).
* **regressors**: ridge on the standardised final score, and one ridge per component mark (Air, Form, Landing,
  where the data has them -> per-stage rho); each target's lambda chosen by k-fold cross-validation on the
  training split (mean squared error) from a log grid; the choice is kept in buffers and in :meth:`fit_summary`.

Everything is fitted in closed form in ``attach_train_set`` (no SGD). One trainable scalar enters the score as
``s - s.detach()`` (value 0, gradient 1) so that the generic training loop has something to step; it never changes
a prediction. Deterministic: the folds come from a fixed generator, independent of the run seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from judgemind.errors import JudgemindError
from judgemind.models.base import DataInfo, ModelOutput, build_config, register_model, score_loss
from judgemind.models.stages import bounds_to_windows, decode_stages
from judgemind.rules.names import COMPONENT_MAX, COMPONENTS

STATS = ("mean", "std", "min", "max")


@dataclass
class PoseStatsConfig:
    lambda_min: float = 1e-2  # ridge lambda grid: lambda_steps values log-spaced in [lambda_min, lambda_max]
    lambda_max: float = 1e5  # (features standardised, so X'X has N on its diagonal)
    lambda_steps: int = 15
    folds: int = 5  # k of the k-fold cross-validation on the training split
    stage_l2: float = 1e-3  # L2 penalty of the per-step stage classifier (per training step)
    stage_context: int = 2  # the classifier also sees the mean token of +- this many steps
    components: bool = True  # also regress Air / Form / Landing (where the data has them)
    use_global: bool = True
    use_foreground: bool = True


def stage_statistics(x: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """Mean, std, min, max of ``x`` (B, T, D) over the steps of each window ``windows`` (B, 3, T) bool
    -> (B, 3 * 4 * D), ordered stage-major then statistic; an empty window gives zeros."""
    w = windows.to(x.dtype).unsqueeze(-1)  # (B, 3, T, 1)
    xs = x.unsqueeze(1)  # (B, 1, T, D)
    cnt = w.sum(2)  # (B, 3, 1)
    n = cnt.clamp_min(1.0)
    mean = (xs * w).sum(2) / n
    var = ((xs - mean.unsqueeze(2)) ** 2 * w).sum(2) / n
    std = var.clamp_min(0).sqrt()
    on = windows.unsqueeze(-1)
    big = torch.finfo(x.dtype).max
    mn = torch.where(on, xs, torch.full_like(xs, big)).amin(2)
    mx = torch.where(on, xs, torch.full_like(xs, -big)).amax(2)
    empty = cnt == 0
    mn, mx = torch.where(empty, 0.0, mn), torch.where(empty, 0.0, mx)
    return torch.stack([mean, std, mn, mx], 2).reshape(x.shape[0], -1)


def _ridge_basis(xc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Eigen-decomposition of the smaller Gram matrix of centred ``xc`` (N, P): (eigenvalues e, vectors, dual)
    with dual = True for ``xc xc'`` (N <= P) and False for ``xc' xc``."""
    dual = xc.shape[0] <= xc.shape[1]
    e, v = torch.linalg.eigh(xc @ xc.T if dual else xc.T @ xc)
    return e.clamp_min(0), v, dual


def _ridge_weights(xc: torch.Tensor, yc: torch.Tensor, lambdas: torch.Tensor, basis=None) -> torch.Tensor:
    """Ridge weights (L, P, m) of centred ``xc`` (N, P) and ``yc`` (N, m) for every lambda (L,)."""
    e, v, dual = basis if basis is not None else _ridge_basis(xc)
    inv = 1.0 / (e[None, :] + lambdas[:, None])  # (L, r)
    if dual:  # w = X' V diag(1/(e+l)) V' y
        vty = v.T @ yc  # (r, m)
        return torch.einsum("pr,lr,rm->lpm", xc.T @ v, inv, vty)
    vtxy = v.T @ (xc.T @ yc)  # (r, m)
    return torch.einsum("pr,lr,rm->lpm", v, inv, vtxy)


def ridge_cv(
    x: torch.Tensor, y: torch.Tensor, lambdas: torch.Tensor, folds: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """k-fold CV of ridge regression with an intercept: ``x`` (N, P), targets ``y`` (N, m) float64 -> (index of the
    best lambda per target (m,), mean validation MSE (m, L)). One decomposition per fold serves every lambda and
    every target."""
    n = x.shape[0]
    k = max(2, min(int(folds), n))
    perm = torch.randperm(n, generator=gen)
    err = torch.zeros(y.shape[1], len(lambdas), dtype=torch.float64)
    for f in range(k):
        va = perm[f::k]
        tr = torch.cat([perm[g::k] for g in range(k) if g != f])
        xm, ym = x[tr].mean(0), y[tr].mean(0)
        w = _ridge_weights(x[tr] - xm, y[tr] - ym, lambdas)  # (L, P, m)
        pred = torch.einsum("np,lpm->mnl", x[va] - xm, w) + ym[:, None, None]
        err += ((pred - y[va].T[:, :, None]) ** 2).sum(1)
    err /= n
    return err.argmin(1), err


def ridge_fit(x: torch.Tensor, y: torch.Tensor, lambdas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ridge with an unpenalised intercept, target ``m`` with its own lambda ``lambdas[m]``: ``y`` (N, m) ->
    (weights (m, P), intercepts (m,))."""
    xm, ym = x.mean(0), y.mean(0)
    xc = x - xm
    basis = _ridge_basis(xc)
    w = torch.stack(
        [_ridge_weights(xc, y[:, j : j + 1] - ym[j], lambdas[j : j + 1], basis)[0, :, 0] for j in range(y.shape[1])]
    )
    return w, ym - w @ xm


Z_CLIP = 6.0  # standardised features are clipped to +-6 s.d. at prediction time


class PoseStats(nn.Module):
    needs_train_set = True
    closed_form = True  # fitted in attach_train_set; the bench does not tune its optimizer settings

    def __init__(self, cfg: PoseStatsConfig, info: DataInfo):
        super().__init__()
        if not (cfg.use_global or cfg.use_foreground):
            raise JudgemindError("posestats: use_global and use_foreground are both false; keep at least one")
        if not (0 < cfg.lambda_min <= cfg.lambda_max) or cfg.lambda_steps < 1:
            raise JudgemindError(
                f"posestats: the lambda grid needs 0 < lambda_min <= lambda_max and lambda_steps "
                f">= 1, got {cfg.lambda_min}, {cfg.lambda_max}, {cfg.lambda_steps}"
            )
        if cfg.folds < 2:
            raise JudgemindError(f"posestats.folds must be >= 2, got {cfg.folds}")
        self.cfg, self.info = cfg, info
        d = (info.dim_foreground if cfg.use_foreground else 0) + (info.dim_global if cfg.use_global else 0)
        self.dim_tokens = d
        self.dim_features = 3 * len(STATS) * d + info.code_dim + 1
        self.dim_step = 2 * d + 3
        f64 = torch.float64
        reg = self.register_buffer
        reg(
            "lambdas",
            torch.logspace(math.log10(cfg.lambda_min), math.log10(cfg.lambda_max), cfg.lambda_steps, dtype=f64),
        )
        reg("x_mean", torch.zeros(self.dim_features, dtype=f64))
        reg("x_std", torch.ones(self.dim_features, dtype=f64))
        # rows: score, air, form, landing (standardised targets)
        reg("w", torch.zeros(4, self.dim_features, dtype=f64))
        reg("b", torch.zeros(4, dtype=f64))
        reg("y_mean", torch.zeros(4, dtype=f64))
        reg("y_std", torch.ones(4, dtype=f64))
        reg("lam", torch.full((4,), float("nan"), dtype=f64))  # chosen lambda per target (NaN: not fitted)
        reg("cv_mse", torch.full((4, cfg.lambda_steps), float("nan"), dtype=f64))
        reg("s_mean", torch.zeros(self.dim_step, dtype=f64))
        reg("s_std", torch.ones(self.dim_step, dtype=f64))
        reg("s_w", torch.zeros(self.dim_step + 1, 3, dtype=f64))  # stage classifier (last row: bias)
        reg("s_acc", torch.tensor(float("nan"), dtype=f64))  # its accuracy on the training steps
        reg("fitted", torch.tensor(False))
        self.anchor = nn.Parameter(torch.zeros(()))  # carries a gradient only (see the module docstring)

    # -- features -----------------------------------------------------------------------------------------------

    def _tokens(self, batch: dict) -> torch.Tensor:
        xs = []
        if self.cfg.use_foreground:
            xs.append(batch["foreground"])
        if self.cfg.use_global:
            xs.append(batch["global"])
        return torch.cat(xs, -1).to(torch.float64)

    def _step_features(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, D) tokens -> (B, T, 2D + 3): token, its local mean over +- stage_context steps, position p, p^2,
        p^3 (p = step / (length - 1))."""
        m = mask.to(x.dtype).unsqueeze(1)  # (B, 1, T)
        k = 2 * max(int(self.cfg.stage_context), 0) + 1
        ones = torch.ones(1, 1, k, dtype=x.dtype, device=x.device)
        num = F.conv1d((x * m.transpose(1, 2)).transpose(1, 2).reshape(-1, 1, x.shape[1]), ones, padding=k // 2)
        num = num.reshape(x.shape[0], x.shape[2], -1).transpose(1, 2)  # (B, T, D)
        den = F.conv1d(m, ones, padding=k // 2).transpose(1, 2).clamp_min(1.0)
        L = mask.sum(1, keepdim=True).to(x.dtype)
        p = torch.arange(x.shape[1], device=x.device, dtype=x.dtype)[None, :] / (L - 1).clamp_min(1.0)
        return torch.cat([x, num / den, p.unsqueeze(-1), p.unsqueeze(-1) ** 2, p.unsqueeze(-1) ** 3], -1)

    def _stage_logits(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        z = (self._step_features(x, mask) - self.s_mean) / self.s_std
        return z @ self.s_w[:-1] + self.s_w[-1]

    def _video_features(self, batch: dict, x: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
        dd = (batch["dd"].to(torch.float64) / max(self.info.dd_mean, 1e-6)).unsqueeze(-1)
        return torch.cat([stage_statistics(x, windows), batch["code"].to(torch.float64), dd], -1)

    def _predicted_bounds(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:

        logits = self._stage_logits(x, mask)
        return decode_stages(logits, mask.sum(1)), logits

    # -- fitting ------------------------------------------------------------------------------------------------

    @torch.no_grad()
    def attach_train_set(self, tensors: dict) -> None:
        """Fit the stage classifier and the ridge regressors on the training split (stacked tensors, first dim N)."""
        dev = self.w.device
        t = {k: v.detach().to(dev) for k, v in tensors.items()}
        mask = t["mask"].bool()
        x = self._tokens(t)
        self._fit_stage_classifier(x, mask, t["stage"])
        windows = self._train_windows(t, x, mask)
        feats = self._video_features(t, x, windows)
        self.x_mean.copy_(feats.mean(0))
        self.x_std.copy_(feats.std(0, unbiased=False).clamp_min(1e-6))
        z = (feats - self.x_mean) / self.x_std
        targets = [t["score"].to(torch.float64)]
        comps = t.get("components")
        for i in range(3):
            use = self.cfg.components and comps is not None and comps.shape[-1] == 3
            targets.append(comps[:, i].to(torch.float64) if use else None)
        rows = [0]
        ok0 = torch.isfinite(targets[0])
        need = max(3, self.cfg.folds)
        if int(ok0.sum()) < need:
            raise JudgemindError(
                f"posestats: the training split has {int(ok0.sum())} videos with a final score; "
                f"need at least {need} for {self.cfg.folds}-fold cross-validation"
            )
        # Components are fitted together with the score on the videos where all are known (aerials: every video).
        rows += [i for i in (1, 2, 3) if targets[i] is not None and bool(torch.isfinite(targets[i])[ok0].all())]
        ok = ok0
        y = torch.stack([targets[i] for i in rows], 1)[ok]  # (n, m)
        ym, ys = y.mean(0), y.std(0, unbiased=False).clamp_min(1e-9)
        yz = (y - ym) / ys
        best, err = ridge_cv(z[ok], yz, self.lambdas, self.cfg.folds, torch.Generator().manual_seed(0))
        w, b = ridge_fit(z[ok], yz, self.lambdas[best])
        for j, row in enumerate(rows):
            self.w[row], self.b[row], self.y_mean[row], self.y_std[row] = w[j], b[j], ym[j], ys[j]
            self.lam[row], self.cv_mse[row] = self.lambdas[best[j]], err[j]
        self.fitted.fill_(True)

    def _train_windows(self, t: dict, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Ground-truth windows where the bounds are known, the decoded ones elsewhere."""
        bounds = t["bounds"].long()
        L = mask.sum(1)
        known = (bounds[:, 0] >= 1) & (bounds[:, 1] > bounds[:, 0]) & (bounds[:, 1] <= L)
        if not bool(known.all()):
            pred, _ = self._predicted_bounds(x, mask)
            bounds = torch.where(known[:, None], bounds, pred)
        return bounds_to_windows(bounds, mask)

    def _fit_stage_classifier(self, x: torch.Tensor, mask: torch.Tensor, stage: torch.Tensor) -> None:
        feats = self._step_features(x, mask)
        lab = stage.long()
        ok = mask & (lab >= 0) & (lab <= 2)
        if not bool(ok.any()):
            # No stage labels: the classifier says "equal thirds" through the position features only.
            self.s_w.zero_()
            self.s_w[-4, :] = torch.tensor([-6.0, 0.0, 6.0], dtype=self.s_w.dtype)
            return
        f, y = feats[ok], lab[ok]
        self.s_mean.copy_(f.mean(0))
        self.s_std.copy_(f.std(0, unbiased=False).clamp_min(1e-6))
        z = (f - self.s_mean) / self.s_std
        z, y = z.float(), y  # float32 is plenty for the classifier and twice as fast
        w = torch.zeros(z.shape[1] + 1, 3, dtype=torch.float32, device=z.device, requires_grad=True)
        opt = torch.optim.LBFGS(
            [w], lr=1.0, max_iter=100, tolerance_grad=1e-9, tolerance_change=1e-12, line_search_fn="strong_wolfe"
        )
        l2 = float(self.cfg.stage_l2)

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(z @ w[:-1] + w[-1], y) + l2 * (w[:-1] ** 2).sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            opt.step(closure)
        self.s_w.copy_(w.detach().double())
        self.s_acc.fill_(float(((z.double() @ self.s_w[:-1] + self.s_w[-1]).argmax(-1) == y).double().mean()))

    @property
    def predicts_components(self) -> bool:
        """Whether the fit has Air, Form and Landing regressors (data with the panel's component marks)."""
        return bool(torch.isfinite(self.lam[1:]).all())

    # -- the model contract -------------------------------------------------------------------------------------

    @torch.no_grad()
    def predict(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(predictions (B, 4) float64: score, Air, Form, Landing (NaN rows for targets not fitted), decoded
        bounds (B, 2), stage logits (B, T, 3)) with stage windows predicted as at test time."""
        if not bool(self.fitted):
            raise JudgemindError(
                "posestats: call attach_train_set(training tensors) before predicting (the "
                "trainer does it for models with needs_train_set)"
            )
        mask = batch["mask"].bool()
        x = self._tokens(batch)
        bounds, logits = self._predicted_bounds(x, mask)
        feats = self._video_features(batch, x, bounds_to_windows(bounds, mask))
        # a video far outside the training distribution (e.g. a tumble) must not extrapolate the linear fit
        # without bound: standardised features are clipped, and so are the predictions (to the marks' ranges
        # and to 0..1.5 x the largest training score)
        z = ((feats - self.x_mean) / self.x_std).clamp(-Z_CLIP, Z_CLIP)
        pred = (z @ self.w.T + self.b) * self.y_std + self.y_mean  # (B, 4)
        pred[:, 0] = pred[:, 0].clamp(0.0, 1.5 * max(float(self.info.score_max), 1e-6))
        for i, top in enumerate(
            [COMPONENT_MAX[c] for c in COMPONENTS] if self.info.scoring.startswith("aerials") else ()
        ):
            pred[:, 1 + i] = pred[:, 1 + i].clamp(0.0, top)
        pred[:, 1:] = torch.where(torch.isfinite(self.lam[1:]), pred[:, 1:], float("nan"))
        return pred, bounds, logits

    def forward(self, batch: dict) -> ModelOutput:
        pred, bounds, logits = self.predict(batch)
        dtype = batch["score"].dtype
        comps = pred[:, 1:] if self.predicts_components else None
        return ModelOutput(
            score=pred[:, 0].to(dtype) + (self.anchor - self.anchor.detach()),
            components=None if comps is None else comps.to(dtype),
            stage_logits=logits.to(dtype),
            bounds=bounds,
        )

    def loss(self, out: ModelOutput, batch: dict):
        loss = score_loss(out.score, batch, self.info).mean()
        return loss, {"score": float(loss.detach())}

    def fit_summary(self) -> dict:
        """What the closed-form fit chose (recorded by the bench): the lambda per target and the stage classifier's
        training accuracy."""
        names = ("score", *COMPONENTS)
        return {
            "lambda": {n: float(self.lam[i]) for i, n in enumerate(names) if math.isfinite(float(self.lam[i]))},
            "lambda_grid": [float(v) for v in self.lambdas],
            "folds": int(self.cfg.folds),
            "stage_classifier_train_accuracy": float(self.s_acc),
            "features": int(self.dim_features),
        }


@register_model(
    "posestats",
    "baseline: per-stage mean/std/min/max of the tokens + code + DD -> ridge (lambda by "
    "k-fold CV); stages decoded from a per-step classifier",
    config=PoseStatsConfig,
)
def build_posestats(overrides: dict, info: DataInfo):
    cfg = build_config(PoseStatsConfig, overrides, "posestats")
    return PoseStats(cfg, info), cfg
