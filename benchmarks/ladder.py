"""The ladder table: floor, ceiling, every model on annotated skeletons, JudgeMind's robustness to skeleton noise,
2D-only skeletons and video features, and the ablations - from ``judgemind bench`` outputs and ``data stats``.

    python benchmarks/ladder.py --stats DATA/stats.json --main BENCH_SKELETON \\
        --noise 2=BENCH_J2 5=BENCH_J5 10=BENCH_J10 --extra "2D only=BENCH_2D" "pixels=BENCH_PIX" \\
        --out docs/results/ladder.md --plot docs/results/ladder_noise.png

Every BENCH_* is an output folder of ``judgemind bench`` (its bench.json). The table is markdown (test split,
checkpoint chosen on val, mean +- std over the seeds). Numbers are SYNTHETIC (SynthAerials).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COLS = (
    ("rho", "ρ", 3),
    ("rl2_x100", "R-ℓ2×100", 2),
    ("air_rho", "Air ρ", 2),
    ("form_rho", "Form ρ", 2),
    ("landing_rho", "Landing ρ", 2),
    ("aiou@0.5", "AIoU@0.5", 1),
    ("aiou@0.75", "AIoU@0.75", 1),
    ("deduction_map", "ded. mAP", 1),
)


def _load(folder: str) -> dict:
    return json.loads((Path(folder) / "bench.json").read_text(encoding="utf-8"))


def _cell(row: dict, key: str, digits: int) -> str:
    v = row["ours"].get(key)
    if v is None:
        return "-"
    mean, std = v
    if mean is None:
        return "-"
    scale = 100.0 if key.startswith("aiou") and mean <= 1.0 else 1.0
    if std is None:  # one seed
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"


def _line(name: str, features: str, row: dict) -> str:
    return f"| {name} | {features} | " + " | ".join(_cell(row, k, d) for k, _, d in COLS) + " |"


def ladder(
    stats: dict, main: dict, noise: dict[str, dict], extra: dict[str, dict], ablations: dict | None = None
) -> tuple[str, list]:
    head = "| rung | features | " + " | ".join(c for _, c, _ in COLS) + " |"
    lines = [head, "|" + "---|" * (len(COLS) + 2)]
    cp, fo = stats["code_prior"], stats["fault_oracle"]
    pc = fo["per_component"]
    lines.append(
        f"| **floor**: code prior (train mean per code) | - | {cp['rho']:.3f} | {cp['rl2x100']:.2f} | "
        + " | ".join(["-"] * 6)
        + " |"
    )
    lines.append(
        f"| **ceiling**: fault oracle (true items + points) | - | {fo['rho']:.3f} | {fo['rl2x100']:.2f} | "
        f"{pc['air']['rho']:.2f} | {pc['form']['rho']:.2f} | {pc['landing']['rho']:.2f} | - | - | - |"
    )
    rows = main["rows"]
    order = [k for k in rows if not rows[k].get("ablation")]
    for lab in sorted(order, key=lambda k: -(rows[k]["ours"]["rho"][0] or -9)):
        lines.append(_line(lab, "annotated skeletons", rows[lab]))
    curve = [(0.0, rows["judgemind"]["ours"]["rho"])] if "judgemind" in rows else []
    for level, doc in sorted(noise.items(), key=lambda kv: float(kv[0])):
        r = doc["rows"].get("judgemind")
        if r:
            lines.append(_line(f"judgemind, skeleton noise {level} %", f"annotated skeletons + {level} % jitter", r))
            curve.append((float(level), r["ours"]["rho"]))
    for name, doc in extra.items():
        r = doc["rows"].get("judgemind")
        if r:
            lines.append(_line("judgemind", name, r))
    abl = (ablations or main)["rows"]
    seeds = "" if ablations is None else f" (seeds {', '.join(map(str, ablations['settings']['seeds']))})"
    for lab in [k for k in abl if abl[k].get("ablation") or (ablations is not None and k == "judgemind")]:
        name = lab if abl[lab].get("ablation") else f"{lab} (the same run as the ablations)"
        lines.append(_line(name + seeds, "annotated skeletons", abl[lab]))
    return "\n".join(lines), curve


def plot(curve: list, png: str, floor: float, ceiling: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [c[0] for c in curve]
    ys = [c[1][0] for c in curve]
    es = [c[1][1] for c in curve]
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label="JudgeMind (3 seeds)")
    ax.axhline(floor, color="grey", ls="--", label=f"code prior {floor:.2f}")
    ax.axhline(ceiling, color="green", ls=":", label=f"fault oracle {ceiling:.2f}")
    ax.set(
        xlabel="simulated skeleton noise (jitter, % of the box height)",
        ylabel="test Spearman rho",
        title="Pose-noise robustness (SYNTHETIC, bench preset)",
    )
    ax.set_ylim(min(floor, min(ys)) - 0.05, 1.0)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stats", required=True)
    p.add_argument("--main", required=True, help="bench folder of all models on annotated skeletons")
    p.add_argument("--noise", nargs="*", default=[], help="LEVEL=BENCH_FOLDER")
    p.add_argument("--extra", nargs="*", default=[], help="'FEATURES NAME=BENCH_FOLDER'")
    p.add_argument("--ablations", help="bench folder with JudgeMind's ablation rows (default: --main's)")
    p.add_argument("--out", required=True)
    p.add_argument("--plot")
    a = p.parse_args()
    stats = json.loads(Path(a.stats).read_text(encoding="utf-8"))
    main_doc = _load(a.main)
    noise = {k: _load(v) for k, v in (x.split("=", 1) for x in a.noise)}
    extra = {k: _load(v) for k, v in (x.rsplit("=", 1) for x in a.extra)}
    table, curve = ladder(stats, main_doc, noise, extra, _load(a.ablations) if a.ablations else None)
    Path(a.out).write_text(table + "\n", encoding="utf-8")
    print(table)
    if a.plot and len(curve) > 1:
        plot(curve, a.plot, stats["code_prior"]["rho"], stats["fault_oracle"]["rho"])
        print(f"plot: {a.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
