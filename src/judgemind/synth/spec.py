"""Sampling one jump: who jumps what, how fast, which faults, how the cameras cut, the light, and the panel.

A :class:`JumpSpec` holds every random choice of one jump, so that everything downstream (motion, camera,
pixels, annotation, judges' marks) is a pure function of it. Specs are drawn from explicit generators:

    jump i of a run with seed s   <-  np.random.default_rng(np.random.SeedSequence(s, spawn_key=(0, i)))
    the athlete pool (48 athletes) <-  SeedSequence(s, spawn_key=(1,))
    the judging panel (5 judges)   <-  SeedSequence(s, spawn_key=(2,))
    the train/val/test split       <-  SeedSequence(s, spawn_key=(3,))
    jump i's judges' perception    <-  SeedSequence(s, spawn_key=(4, i))
    jump i's camera shots          <-  SeedSequence(s, spawn_key=(5, i))

so jump i is the same whatever ``n`` and the number of workers, and the same jump is rendered under every cut
pattern (``CUT_MODES``): only its shots differ. Clip length and stage durations carry no label: the in-run shown
before the lip and the landing shown after touchdown are drawn independently of the faults; the flight lasts
what the ballistics of the kicker and the take-off speed give. Times are in seconds; a spec does not depend on
the frame rate or the image size (``timeline`` turns it into frames).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.rules import dd_entries, dd_for, known_codes, parse_jump_code
from judgemind.rules.names import DEFAULT_FPS, STAGES
from judgemind.synth import course

GENERATOR_VERSION = "3"
N_ATHLETES = 48
N_JUDGES = 5

# Kicker per number of somersaults: (angle degrees, height m).
KICKERS = {1: (52.0, 2.0), 2: (60.0, 2.8), 3: (66.0, 3.5)}

# Share of each somersault count in the default mix, per sex (a World-Cup-like field: mostly triples for men,
# doubles and triples for women, a few singles).
_DEFAULT_MIX = {"M": {1: 0.01, 2: 0.04, 3: 0.95}, "W": {1: 0.015, 2: 0.135, 3: 0.85}}
_WOMEN_MAX_DD = 4.6
_DD_CENTER = {"M": 4.45, "W": 3.9}

FLIGHT_FORM_ITEMS = (
    "bent_knees",
    "legs_apart",
    "crossed_skis",
    "arms_flailing",
    "pike_in_layout",
    "arch_in_layout",
    "early_twist",
    "late_twist_finish",
    "uneven_twists",
    "loss_of_axis",
)
CONTACT_ITEMS = ("hand_drag", "back_slap", "body_contact", "crash", "no_weight_on_skis")
SYNTH_ITEMS = (
    "early_rotation",
    "weak_takeoff",
    "short_flight",
    "long_flight",
    *FLIGHT_FORM_ITEMS,
    "landing_imbalance",
    "hard_compression",
    "turn_on_landing",
    "over_under_rotation",
    *CONTACT_ITEMS,
)
FAULT_STAGE = {
    "early_rotation": "takeoff",
    "weak_takeoff": "takeoff",
    "short_flight": "flight",
    "long_flight": "flight",
    **{k: "flight" for k in FLIGHT_FORM_ITEMS},
    **{
        k: "landing"
        for k in ("landing_imbalance", "hard_compression", "turn_on_landing", "over_under_rotation", *CONTACT_ITEMS)
    },
}

SHOT_KINDS = ("side", "tele", "hill", "rear", "wide")
# Camera switches, a controlled variable (the same jumps under each): "none" one shot for the whole clip (the
# jump's first shot), "broadcast" 2-4 shots cutting near take-off, mid-flight and touchdown, "heavy" 4-7 shots
# cutting anywhere (mid-flight included), at least ``HEAVY_MIN_GAP`` s apart.
CUT_MODES = ("none", "broadcast", "heavy")
DEFAULT_CUTS = "broadcast"
HEAVY_MIN_GAP = 0.3
# Seconds of the clip before the lip and after touchdown: wide and independent of everything else, so that
# neither a fixed-offset segmentation nor the clip length gives the stages or the faults away.
INRUN_TIME = (0.5, 2.3)
LANDING_TIME = (0.9, 1.7)


# --------------------------------------------------------------------------------------------------------------
# records of the choices


@dataclass(frozen=True)
class SynthSettings:
    """Everything that changes the output of a run (stored in ``OUT/.synth/settings.json``)."""

    n: int
    seed: int
    size: int = 128
    fps: float = DEFAULT_FPS
    codes: tuple[str, ...] | None = None
    render: bool = True
    cuts: str = DEFAULT_CUTS
    version: str = GENERATOR_VERSION

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["codes"] = list(self.codes) if self.codes is not None else None
        return d


@dataclass(frozen=True)
class Fault:
    """A deduction item shown by the motion. ``start``/``end``: where it is visible, as fractions (0-1) of its
    stage; ``severity`` in [0, 1] scales both the motion and the points (catalogue min + severity x range)."""

    item: str
    severity: float
    start: float = 0.0
    end: float = 1.0
    direction: int = 1  # side of the body / sign (hand drag side, over- or under-rotation, turn direction)

    @property
    def stage(self) -> str:
        return FAULT_STAGE[self.item]


@dataclass(frozen=True)
class Athlete:
    id: str
    sex: str
    quality: float  # per-athlete skill, ~N(0, 1)
    jacket: tuple[int, int, int]  # BGR colours
    pants: tuple[int, int, int]
    helmet: tuple[int, int, int]
    skis: tuple[int, int, int]
    height: float  # m


@dataclass(frozen=True)
class Judge:
    """One judge of the panel: a bias per component (air, form, landing) and a noise s.d. per component."""

    bias: tuple[float, float, float]
    noise: tuple[float, float, float]


@dataclass(frozen=True)
class Shot:
    """One camera shot from ``start`` seconds until the next shot. ``position`` world metres; ``frac`` the wanted
    athlete height as a fraction of the frame height; ``lag`` s of the follow filter; wide shots look at
    ``target`` and follow the athlete only loosely."""

    kind: str
    start: float
    position: tuple[float, float, float]
    frac: float
    lag: float
    shake: float
    phase: float
    zoom_rate: float
    target: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Scene:
    """Light and look: sky gradient, snow colour, sun direction (azimuth, elevation radians), ambient share,
    exposure per shot, marker colour, crowd texture seed."""

    sky_top: tuple[int, int, int]
    sky_bottom: tuple[int, int, int]
    snow: tuple[int, int, int]
    mountains: tuple[int, int, int]
    sun: tuple[float, float]
    ambient: float
    exposure: tuple[float, ...]
    marker: tuple[int, int, int]
    crowd_seed: int
    light: str


@dataclass(frozen=True)
class JumpSpec:
    """Every random choice of one jump (see the module docstring)."""

    index: int
    id: str
    code: str
    dd: str
    sex: str
    athlete: Athlete
    execution: float  # this jump's execution draw, ~N(0, 1)
    kicker_angle: float  # radians
    kicker_height: float  # m
    speed: float  # take-off speed, m/s
    takeoff_angle: float  # radians (kicker angle, lowered by a weak take-off)
    ideal_speed: float
    speed_noise: float  # relative take-off speed deviation of this jump (before the air faults)
    inrun_time: float  # s from the first frame to leaving the lip
    flight_time: float  # s, from the ballistic flight
    landing_time: float  # s from touchdown to the end of the clip (drawn independently of the faults)
    twist_dir: int
    faults: tuple[Fault, ...]
    shots: tuple[Shot, ...]
    scene: Scene
    judges: tuple[Judge, ...]
    judge_noise: tuple[tuple[float, float, float], ...]  # standard normal draws, one per judge and component
    # standard normal draws, one per judge and catalogue item of SYNTH_ITEMS: each judge's error in perceiving
    # the item's measured quantity (synth/measure.py)
    perception: tuple[tuple[float, ...], ...] = ()
    cuts: str = DEFAULT_CUTS  # the cut pattern ``shots`` were drawn under (CUT_MODES)

    @property
    def duration(self) -> float:
        return self.inrun_time + self.flight_time + self.landing_time

    @property
    def skill(self) -> float:
        """Quality of this jump's execution: athlete quality plus the jump's own draw."""
        return 0.6 * self.athlete.quality + 0.8 * self.execution

    def fault(self, item: str) -> Fault | None:
        for f in self.faults:
            if f.item == item:
                return f
        return None

    def severity(self, item: str) -> float:
        f = self.fault(item)
        return f.severity if f is not None else 0.0

    def with_faults(self, faults: Sequence[Fault]) -> "JumpSpec":
        """The same jump with other faults (speeds and flight follow the air faults; the rest is unchanged)."""
        return _finish_physics(dataclasses.replace(self, faults=tuple(faults)))

    def kicker(self) -> course.Kicker:
        return course.Kicker(self.kicker_angle, self.kicker_height)

    def flight(self) -> course.Flight:
        return course.flight(self.kicker(), self.speed, self.takeoff_angle)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------------------------------
# timeline: seconds -> frames


@dataclass(frozen=True)
class Timeline:
    """Frame indices of a jump at a frame rate: ``n_frames``; take-off is ``[0, lip)``, flight ``[lip, touch)``,
    landing ``[touch, n_frames)``; ``times[k]`` is the time of frame k in seconds."""

    fps: float
    n_frames: int
    lip: int
    touch: int

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.fps

    def stage_frames(self, stage: str) -> tuple[int, int]:
        return dict(zip(STAGES, ((0, self.lip), (self.lip, self.touch), (self.touch, self.n_frames))))[stage]

    def fault_frames(self, f: Fault) -> tuple[int, int]:
        a, b = self.stage_frames(f.stage)
        n = b - a
        s = a + int(math.floor(f.start * n + 1e-9))
        e = a + int(math.ceil(f.end * n - 1e-9))
        s = min(max(s, a), b - 1)
        return s, max(min(e, b), s + 1)


def timeline(spec: JumpSpec, fps: float) -> Timeline:
    """Frames of ``spec`` at ``fps``; every stage gets at least 2 frames."""
    lip = max(2, int(math.ceil(spec.inrun_time * fps - 1e-9)))
    touch = max(lip + 2, int(math.ceil((spec.inrun_time + spec.flight_time) * fps - 1e-9)))
    n = max(touch + 2, int(math.ceil(spec.duration * fps - 1e-9)))
    return Timeline(float(fps), n, lip, touch)


# --------------------------------------------------------------------------------------------------------------
# pools shared by all jumps of a run


def _color(rng, lo=30, hi=240) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi, size=3))


_SUITS = [
    (40, 40, 200),
    (200, 60, 30),
    (30, 160, 230),
    (20, 20, 20),
    (230, 230, 230),
    (160, 40, 160),
    (40, 150, 40),
    (0, 90, 250),
    (120, 30, 30),
    (220, 180, 0),
]


@functools.lru_cache(maxsize=8)
def athlete_pool(seed: int) -> tuple[Athlete, ...]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    out = []
    for i in range(N_ATHLETES):
        sex = "M" if i % 2 == 0 else "W"
        jacket = _SUITS[int(rng.integers(len(_SUITS)))]
        pants = _SUITS[int(rng.integers(len(_SUITS)))] if rng.random() < 0.6 else jacket
        out.append(
            Athlete(
                id=f"SYN-{sex}{i:02d}",
                sex=sex,
                quality=float(rng.normal()),
                jacket=jacket,
                pants=pants,
                helmet=_color(rng),
                skis=_color(rng, 60, 255),
                height=float(rng.uniform(1.62, 1.84) if sex == "M" else rng.uniform(1.55, 1.74)),
            )
        )
    return tuple(out)


@functools.lru_cache(maxsize=8)
def judging_panel(seed: int) -> tuple[Judge, ...]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))
    judges = []
    for _ in range(N_JUDGES):
        bias = (rng.normal(0, 0.05), rng.normal(0, 0.12), rng.normal(0, 0.07))
        # mark noise on top of each judge's perception of the items (synth/measure.py)
        noise = (rng.uniform(0.02, 0.05), rng.uniform(0.04, 0.10), rng.uniform(0.03, 0.07))
        judges.append(Judge(tuple(float(b) for b in bias), tuple(float(s) for s in noise)))
    return tuple(judges)


@functools.lru_cache(maxsize=64)
def _code_info(code: str) -> tuple[int, bool, bool, dict]:
    """(somersaults, has a layout somersault without twist or with, number of twisting somersaults, DD per
    sex)."""

    jc = parse_jump_code(code)
    entries = [e for e in dd_entries(code) if e.current]
    sexes = {e.sex for e in entries}
    dd = {}
    if sexes & {None, "M"}:
        dd["M"] = str(
            next(e.value for e in entries if e.sex == "M")
            if "M" in sexes
            else next(e.value for e in entries if e.sex is None)
        )
    if sexes & {None, "W"}:
        dd["W"] = str(
            next(e.value for e in entries if e.sex == "W")
            if "W" in sexes
            else next(e.value for e in entries if e.sex is None)
        )
    layout = any(s.shape == "layout" for s in jc.somersaults)
    return jc.n_somersaults, layout, sum(1 for s in jc.somersaults if s.twists), dd


def check_codes(codes: Sequence[str]) -> tuple[str, ...]:
    """Validate ``--codes``: each must be in the rules' DD table (the rules error names close codes)."""

    out = []
    for c in codes:
        c = c.strip()
        if not c:
            continue
        dd_for(c)  # raises UnknownJumpCode naming close known codes
        if c not in out:
            out.append(c)
    if not out:
        raise JudgemindError("--codes is empty; give jump codes separated by commas, e.g. --codes bLT,bFdFF")
    return tuple(out)


@functools.lru_cache(maxsize=16)
def code_weights(codes: tuple[str, ...] | None, sex: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Codes open to ``sex`` and their sampling weights: the default mix, or uniform over ``codes``."""

    pool = [c for c in (codes if codes is not None else known_codes()) if sex in _code_info(c)[3]]
    if codes is None:
        if sex == "W":
            pool = [c for c in pool if float(_code_info(c)[3]["W"]) <= _WOMEN_MAX_DD]
        # among the triples, jumps near the field's usual difficulty are the most common
        pref = np.array(
            [
                math.exp(-0.5 * ((float(_code_info(c)[3][sex]) - _DD_CENTER[sex]) / 0.6) ** 2)
                if _code_info(c)[0] == 3
                else 1.0
                for c in pool
            ]
        )
        w = np.zeros(len(pool))
        for k in (1, 2, 3):
            idx = [i for i, c in enumerate(pool) if _code_info(c)[0] == k]
            if idx:
                w[idx] = _DEFAULT_MIX[sex][k] * pref[idx] / pref[idx].sum()
    else:
        w = np.ones(len(pool))
    return tuple(pool), (w / w.sum() if len(pool) else w)


# --------------------------------------------------------------------------------------------------------------
# sampling


def jump_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, index)))


def jump_id(index: int) -> str:
    return f"synth_{index:05d}"


def sample_spec(seed: int, index: int, codes: Sequence[str] | None = None, cuts: str = DEFAULT_CUTS) -> JumpSpec:
    """Draw jump ``index`` of the run with ``seed`` (``codes``: restrict the jump codes, uniform over them;
    ``cuts``: the camera switches, one of ``CUT_MODES``; only the shots depend on it)."""
    if cuts not in CUT_MODES:
        raise JudgemindError(f"unknown cut pattern {cuts!r}; choose one of {', '.join(CUT_MODES)}")
    rng = jump_rng(seed, index)
    codes_t = tuple(codes) if codes is not None else None
    # sex, then a code open to it; a sex without any of the given codes hands over to the other
    sex = "M" if rng.random() < 0.5 else "W"
    pool, w = code_weights(codes_t, sex)
    if not pool:
        sex = "W" if sex == "M" else "M"
        pool, w = code_weights(codes_t, sex)
    code = pool[int(rng.choice(len(pool), p=w))]
    n_som, has_layout, twisting, dds = _code_info(code)
    athletes = [a for a in athlete_pool(seed) if a.sex == sex]
    athlete = athletes[int(rng.integers(len(athletes)))]
    execution = float(rng.normal())
    skill = 0.6 * athlete.quality + 0.8 * execution
    angle_deg, height = KICKERS[n_som]
    kick = course.Kicker(math.radians(angle_deg + float(rng.normal(0, 1.0))), height)
    ideal = course.ideal_speed(kick)
    inrun_time = float(rng.uniform(*INRUN_TIME))
    faults = sample_faults(rng, float(dds[sex]), skill, n_som, has_layout, twisting, inrun_time)
    spec = JumpSpec(
        index=index,
        id=jump_id(index),
        code=code,
        dd=dds[sex],
        sex=sex,
        athlete=athlete,
        execution=execution,
        kicker_angle=kick.angle,
        kicker_height=height,
        speed=ideal,
        takeoff_angle=kick.angle,
        ideal_speed=ideal,
        speed_noise=float(rng.normal(0, 0.025)),
        inrun_time=inrun_time,
        flight_time=0.0,
        landing_time=float(rng.uniform(*LANDING_TIME)),
        twist_dir=1 if rng.random() < 0.5 else -1,
        faults=faults,
        shots=(),
        scene=_sample_scene(rng),
        judges=judging_panel(seed),
        judge_noise=tuple(tuple(float(v) for v in rng.normal(size=3)) for _ in range(N_JUDGES)),
        perception=perception_draws(seed, index),
    )
    spec = _finish_physics(spec)
    return dataclasses.replace(spec, shots=sample_shots(shot_rng(seed, index), spec, cuts), cuts=cuts)


def _finish_physics(spec: JumpSpec) -> JumpSpec:
    """Take-off speed and angle from the air faults, flight time from the ballistics. The in-run and landing
    times are left as drawn: a fault never lengthens the clip."""
    speed = spec.ideal_speed * (1.0 + spec.speed_noise) * _air_factor(spec.faults)
    angle = spec.kicker_angle - math.radians(4.0) * _sev(spec.faults, "weak_takeoff")
    fl = course.flight(spec.kicker(), speed, angle)
    return dataclasses.replace(spec, speed=speed, takeoff_angle=angle, flight_time=fl.duration)


def _sev(faults: Sequence[Fault], item: str) -> float:
    for f in faults:
        if f.item == item:
            return f.severity
    return 0.0


def _air_factor(faults: Sequence[Fault]) -> float:
    """Take-off speed factor: a short flight comes from too little speed, a long one from too much."""
    short, long_, weak = (_sev(faults, k) for k in ("short_flight", "long_flight", "weak_takeoff"))
    f = 1.0
    if short:
        f *= 1.0 - (0.06 + 0.22 * short)
    if long_:
        f *= 1.0 + (0.05 + 0.16 * long_)
    if weak:
        f *= 1.0 - 0.05 * weak
    return f


# Fault probabilities (times the jump's risk) and severity Beta(a, b) shapes. Small form and landing faults are
# common (as in real judging, few jumps get a clean 5.0 for form); many of the smallest stay below the judges'
# visibility thresholds (synth/measure.py) and cost nothing.
_P_TAKEOFF = {"early_rotation": (0.15, 1.6, 3.5), "weak_takeoff": (0.20, 1.6, 3.5)}
_P_FORM = {
    "bent_knees": (0.55, 2.0, 8.0),
    "legs_apart": (0.40, 2.0, 8.0),
    "crossed_skis": (0.15, 2.0, 8.0),
    "arms_flailing": (0.30, 2.0, 8.0),
    "pike_in_layout": (0.40, 2.0, 8.0),
    "arch_in_layout": (0.20, 2.0, 8.0),
    "early_twist": (0.15, 1.5, 3.5),
    "late_twist_finish": (0.25, 1.5, 3.0),
    "uneven_twists": (0.18, 1.5, 3.0),
    "loss_of_axis": (0.15, 2.0, 7.0),
}
_P_CONTACT = {
    "hand_drag": (0.06, 2.0, 2.0),
    "back_slap": (0.04, 2.0, 2.0),
    "body_contact": (0.03, 2.0, 2.0),
    "crash": (0.035, 2.0, 2.0),
    "no_weight_on_skis": (0.035, 2.0, 2.0),
}
_P_LANDING = {
    "landing_imbalance": (0.50, 1.5, 3.5),
    "hard_compression": (0.35, 1.5, 3.0),
    "turn_on_landing": (0.08, 1.5, 3.0),
    "over_under_rotation": (0.15, 1.5, 3.0),
}


def perception_draws(seed: int, index: int) -> tuple[tuple[float, ...], ...]:
    """Standard normal draws (judges x SYNTH_ITEMS) of jump ``index``: each judge's error in perceiving each
    item's measured quantity. From their own stream, so they do not shift any other choice of the jump."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(4, index)))
    z = rng.normal(size=(N_JUDGES, len(SYNTH_ITEMS)))
    return tuple(tuple(float(v) for v in row) for row in z)


def jump_risk(dd: float, skill: float) -> float:
    """How fault-prone a jump is: harder jumps and weaker executions fail more often."""
    return 0.45 * math.exp(1.45 * (dd - 3.8) - 0.5 * skill)


def sample_faults(
    rng: np.random.Generator, dd: float, skill: float, n_som: int, has_layout: bool, twisting: bool, inrun_time: float
) -> tuple[Fault, ...]:
    """Draw the faults of one jump. Every candidate consumes the same draws whether or not it occurs, so one
    fault's outcome does not shift the others'."""
    risk = jump_risk(dd, skill)
    out: list[Fault] = []

    def draw(p: float, a: float, b: float) -> tuple[bool, float, float, float]:
        u, sev, w0, w1 = rng.random(), rng.beta(a, b), rng.random(), rng.random()
        return u < min(0.9, p * risk), float(np.clip(sev, 0.05, 1.0)), float(w0), float(w1)

    for item, (p, a, b) in _P_TAKEOFF.items():
        hit, sev, _, _ = draw(p, a, b)
        if hit:
            window = 0.35 if item == "early_rotation" else 0.45
            out.append(Fault(item, sev, start=max(0.0, 1.0 - window / inrun_time), end=1.0))
    hit_s, sev_s, _, _ = draw(0.07, 1.6, 3.0)
    hit_l, sev_l, _, _ = draw(0.05, 1.6, 3.0)
    if hit_s:
        out.append(Fault("short_flight", sev_s))
    elif hit_l:
        out.append(Fault("long_flight", sev_l))
    for item, (p, a, b) in _P_FORM.items():
        hit, sev, w0, w1 = draw(p, a, b)
        if item in ("pike_in_layout", "arch_in_layout") and not has_layout:
            continue
        if item in ("early_twist", "late_twist_finish", "loss_of_axis") and not twisting:
            continue
        if item == "uneven_twists" and twisting < 2:
            continue
        if not hit:
            continue
        if item == "early_twist":
            start, end = 0.0, 0.25 + 0.25 * w1
        elif item == "late_twist_finish":
            start, end = 0.5 + 0.2 * w0, 0.98
        elif item == "uneven_twists":
            start, end = 0.08, 0.92
        else:
            start = 0.05 + 0.5 * w0
            end = min(0.95, start + 0.3 + 0.5 * w1)
        direction = (1 if w0 < 0.5 else -1) if item == "uneven_twists" else 1
        out.append(Fault(item, sev, round(start, 4), round(end, 4), direction=direction))
    # landing: at most one contact with the snow (hand, back, body or a crash), then the standing faults
    u, side = rng.random(), 1 if rng.random() < 0.5 else -1
    contact = None
    acc = 0.0
    sevs = {k: float(np.clip(rng.beta(a, b), 0.05, 1.0)) for k, (p, a, b) in _P_CONTACT.items()}
    for item, (p, a, b) in _P_CONTACT.items():
        acc += p * risk
        if u < min(acc, 0.8) and contact is None:
            contact = item
    windows = {
        "hand_drag": (0.08, 0.6),
        "back_slap": (0.05, 0.65),
        "body_contact": (0.05, 0.95),
        "crash": (0.0, 1.0),
        "no_weight_on_skis": (0.05, 1.0),
    }
    if contact is not None:
        out.append(Fault(contact, sevs[contact], *windows[contact], direction=side))
    for item, (p, a, b) in _P_LANDING.items():
        hit, sev, w0, w1 = draw(p, a, b)
        if not hit or contact in ("crash", "no_weight_on_skis"):
            continue
        if item == "landing_imbalance":
            win = (0.05, 0.5 + 0.3 * w1)
        elif item == "hard_compression":
            win = (0.0, 0.35 + 0.1 * w1)
        elif item == "turn_on_landing":
            win = (0.1, 0.8)
        else:
            win = (0.0, 0.35)
        direction = 1 if w0 < 0.5 else -1
        out.append(Fault(item, sev, win[0], round(win[1], 4), direction=direction))
    return tuple(out)


# --------------------------------------------------------------------------------------------------------------
# look and camera


_LIGHTS = {
    # name: (sky top, sky bottom, snow, mountains, ambient) in BGR; evening/floodlit are warmer and darker
    "sunny": ((190, 120, 40), (240, 215, 185), (250, 248, 244), (150, 120, 110), 0.55),
    "overcast": ((185, 182, 178), (220, 218, 215), (232, 232, 230), (150, 150, 148), 0.85),
    "evening": ((120, 60, 40), (150, 170, 235), (225, 225, 245), (90, 70, 80), 0.6),
    "floodlit": ((50, 25, 15), (90, 60, 45), (215, 228, 240), (45, 35, 35), 0.7),
}


def _jitter(rng, c, amount=12) -> tuple[int, int, int]:
    return tuple(int(np.clip(v + rng.integers(-amount, amount + 1), 0, 255)) for v in c)


def _sample_scene(rng: np.random.Generator) -> Scene:
    light = str(rng.choice(list(_LIGHTS), p=[0.4, 0.3, 0.15, 0.15]))
    top, bottom, snow, mountains, ambient = _LIGHTS[light]
    markers = [(200, 90, 20), (40, 160, 40), (40, 40, 200), (20, 140, 230)]
    return Scene(
        sky_top=_jitter(rng, top),
        sky_bottom=_jitter(rng, bottom),
        snow=_jitter(rng, snow, 6),
        mountains=_jitter(rng, mountains),
        sun=(float(rng.uniform(-math.pi, math.pi)), float(rng.uniform(0.25, 0.9))),
        ambient=float(np.clip(ambient + rng.normal(0, 0.05), 0.4, 0.95)),
        exposure=tuple(float(v) for v in rng.uniform(0.88, 1.08, size=4)),
        marker=markers[int(rng.integers(len(markers)))],
        crowd_seed=int(rng.integers(2**31)),
        light=light,
    )


def _shot(rng: np.random.Generator, kind: str, start: float) -> Shot:
    sign = 1.0 if rng.random() < 0.5 else -1.0
    shake, phase = float(rng.uniform(0.0, 0.004)), float(rng.uniform(0, 2 * math.pi))
    zoom = float(rng.uniform(-0.15, 0.15))
    if kind == "side":
        x = rng.uniform(-4, 12)
        pos = (x, sign * rng.uniform(22, 40), course.height_at(x) + rng.uniform(1.5, 6))
        frac, lag = rng.uniform(0.5, 0.68), rng.uniform(0.04, 0.2)
    elif kind == "tele":
        x = rng.uniform(-2, 14)
        pos = (x, sign * rng.uniform(45, 70), course.height_at(x) + rng.uniform(1, 8))
        frac, lag = rng.uniform(0.62, 0.8), rng.uniform(0.03, 0.12)
    elif kind == "hill":
        x = rng.uniform(38, 50)
        pos = (x, sign * rng.uniform(3, 9), course.height_at(x) + rng.uniform(1.5, 5))
        frac, lag = rng.uniform(0.45, 0.6), rng.uniform(0.05, 0.2)
    elif kind == "rear":
        x = -course.KICKER_ZONE - course.TABLE_LENGTH - rng.uniform(22, 30)
        pos = (x, sign * rng.uniform(1, 5), course.height_at(x) + rng.uniform(3, 6))
        frac, lag = rng.uniform(0.45, 0.6), rng.uniform(0.05, 0.2)
    else:  # wide: far, almost static, the athlete small
        x = rng.uniform(5, 25)
        pos = (x, sign * rng.uniform(55, 85), course.height_at(x) + rng.uniform(3, 15))
        frac, lag = rng.uniform(0.06, 0.12), rng.uniform(0.6, 1.2)
        target = (float(rng.uniform(-2, 8)), 0.0, float(rng.uniform(-6, 0)))
        return Shot(
            kind, start, tuple(float(v) for v in pos), float(frac), float(lag), shake, phase, zoom * 0.3, target
        )
    return Shot(kind, start, tuple(float(v) for v in pos), float(frac), float(lag), shake, phase, zoom)


def shot_rng(seed: int, index: int) -> np.random.Generator:
    """The camera shots' own stream of jump ``index``: no cut pattern moves any other choice of the jump."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(5, index)))


def sample_shots(rng: np.random.Generator, spec: JumpSpec, cuts: str = DEFAULT_CUTS) -> tuple[Shot, ...]:
    """The shots of ``spec`` under the cut pattern ``cuts`` (``CUT_MODES``). The first shot is drawn first, so it
    is the same under every pattern (``none`` keeps only it)."""
    first = str(rng.choice(["side", "rear", "wide", "tele"], p=[0.45, 0.3, 0.07, 0.18]))
    shots = [_shot(rng, first, 0.0)]
    if cuts == "none":
        return tuple(shots)
    times = _broadcast_cuts(rng, spec) if cuts == "broadcast" else _heavy_cuts(rng, spec)
    t_td = spec.inrun_time + spec.flight_time
    for t in times:
        late = t >= t_td - 0.3
        kinds = ["side", "tele", "hill", "wide"]
        p = np.array([0.4, 0.25, 0.3 if late else 0.15, 0.06])
        if shots[-1].kind in kinds:  # a cut always changes the viewpoint
            p[kinds.index(shots[-1].kind)] = 0.0
        kind = kinds[int(rng.choice(4, p=p / p.sum()))]
        shots.append(_shot(rng, kind, t))
    return tuple(shots)


def _broadcast_cuts(rng: np.random.Generator, spec: JumpSpec) -> list[float]:
    """1-3 cut times around take-off, mid-flight and touchdown (a TV production's pattern)."""
    t_lip = spec.inrun_time
    t_td = t_lip + spec.flight_time
    total = spec.duration
    n_shots = int(rng.choice([2, 3, 4], p=[0.35, 0.45, 0.2]))
    windows = [
        (t_lip - 0.35, t_lip + 0.25),
        (t_lip + 0.35 * spec.flight_time, t_lip + 0.65 * spec.flight_time),
        (t_td - 0.25, t_td + 0.3),
    ]
    picks = sorted(rng.choice(3, size=n_shots - 1, replace=False).tolist())
    u = rng.random(3)
    cuts: list[float] = []
    for k in picks:
        a, b = windows[k]
        t = a + (b - a) * float(u[k])
        if 0.4 <= t <= total - 0.4 and (not cuts or t - cuts[-1] >= 0.4):
            cuts.append(round(t, 4))
    return cuts


def _heavy_cuts(rng: np.random.Generator, spec: JumpSpec) -> list[float]:
    """3-6 cut times anywhere in the clip, at least ``HEAVY_MIN_GAP`` s from each other and from the clip's ends:
    k uniform draws on the clip less the gaps, sorted, each pushed on by the gaps before it."""
    k = int(rng.integers(3, 7))
    free = spec.duration - (k + 1) * HEAVY_MIN_GAP
    u = np.sort(rng.uniform(0.0, max(free, 0.0), size=k))
    return [round(float(HEAVY_MIN_GAP * (j + 1) + u[j]), 4) for j in range(k)]
