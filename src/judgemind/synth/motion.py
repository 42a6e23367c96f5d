"""Kinematics of one jump: body angles per frame, an articulated skeleton, world positions of every joint.

The body is 15 joints plus the tips and tails of both skis (``POINTS``). Per frame the pose is a set of joint
angles (hip and knee flexion, leg spread, ski crossing, spine, shoulder flexion/abduction, elbow) and a global
orientation built from the somersault (pitch about the lateral axis), the twist (about the body's long axis,
applied first, so the body turns about itself), a tilt out of the somersault plane and a yaw on the snow:

    R = R_yaw @ R_pitch(somersault) @ R_roll(tilt) @ R_twist(twist)

The root (pelvis) rides the in-run and kicker with its skis on the snow, then follows the ballistic flight of
:mod:`.course`, then slides down the landing hill with its lowest point on the snow (which is what puts a hand,
the back or the whole body on the snow when a fault rotates the body there).

Faults change the angles inside their windows only (see ``Fault.start``/``end``), so frames outside a fault's
stage do not change when the fault is added or removed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from judgemind.rules import parse_jump_code
from judgemind.rules.names import STAGES
from judgemind.synth import course
from judgemind.synth.spec import Fault, JumpSpec, Timeline, timeline

JOINTS = (
    "pelvis",
    "neck",
    "head",
    "l_shoulder",
    "r_shoulder",
    "l_elbow",
    "r_elbow",
    "l_hand",
    "r_hand",
    "l_hip",
    "r_hip",
    "l_knee",
    "r_knee",
    "l_ankle",
    "r_ankle",
)
SKI_POINTS = ("l_ski_tip", "l_ski_tail", "r_ski_tip", "r_ski_tail")
POINTS = JOINTS + SKI_POINTS
P = {name: i for i, name in enumerate(POINTS)}

_D = math.pi / 180.0
_PARAMS = ("hip", "knee", "spine", "sh_flex", "sh_abd", "elbow", "tuck")


def _pose(hip, knee, spine, sh_flex, sh_abd, elbow, tuck=0.0) -> dict:
    return dict(zip(_PARAMS, (hip * _D, knee * _D, spine * _D, sh_flex * _D, sh_abd * _D, elbow * _D, tuck)))


CROUCH = _pose(75, 90, 35, 40, 15, 40)
EXTEND = _pose(0, 3, -5, 165, 12, 5)
LAYOUT_OPEN = _pose(0, 0, 0, 15, 80, 10)
LAYOUT_TWIST = _pose(0, 0, 0, 25, 8, 125)
TUCK = _pose(125, 135, 30, 55, 12, 65, 1.0)
PIKE = _pose(115, 3, 35, 80, 12, 10, 1.0)
PRELAND = _pose(15, 15, 5, 70, 30, 20)
COMPRESS = _pose(85, 95, 40, 60, 35, 30)
STANCE = _pose(45, 45, 25, 50, 30, 35)
SKIING = _pose(35, 35, 20, 40, 25, 35)


@dataclass(frozen=True)
class Motion:
    """Per-frame kinematics of a jump. ``points``: (T, 19, 3) world positions of ``POINTS``; ``root``: (T, 3)
    pelvis; ``ground``: (T, 3) the snow point below the athlete; ``timeline``: frames of the stages."""

    points: np.ndarray
    root: np.ndarray
    ground: np.ndarray
    timeline: Timeline
    angles: dict | None = None  # per-frame radians: the joint angles of ``skeleton`` + pitch, twist, roll, yaw


# --------------------------------------------------------------------------------------------------------------
# small helpers (all vectorised over frames)


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def window(u: np.ndarray, a: float, b: float, ramp: float = 0.08) -> np.ndarray:
    """Smooth trapezoid: 0 outside [a, b], 1 inside, with ramps of ``ramp`` (at most a quarter of the window)."""
    r = max(min(ramp, (b - a) / 4.0), 1e-6)
    return smoothstep((u - a) / r) * smoothstep((b - u) / r)


def keyframes(t: np.ndarray, keys: list[tuple[float, dict]]) -> dict[str, np.ndarray]:
    """Interpolate pose dictionaries at key times ``keys`` with smoothstep easing; held before/after the ends."""
    ts = np.array([k for k, _ in keys], dtype=np.float64)
    idx = np.clip(np.searchsorted(ts, t, side="right") - 1, 0, len(ts) - 2)
    t0, t1 = ts[idx], ts[idx + 1]
    u = smoothstep((t - t0) / np.maximum(t1 - t0, 1e-9))
    out = {}
    for name in _PARAMS:
        vals = np.array([k[name] for _, k in keys], dtype=np.float64)
        out[name] = vals[idx] * (1.0 - u) + vals[idx + 1] * u
    return out


def _rot_x(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rot_z(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def orientation(pitch, twist, roll, yaw) -> np.ndarray:
    """(T, 3, 3) body-to-world rotations. ``pitch`` is the backward somersault angle (0 upright, pi/2 head
    pointing back, against the direction of travel)."""
    return _rot_z(yaw) @ _rot_y(-pitch) @ _rot_x(roll) @ _rot_z(twist)


# --------------------------------------------------------------------------------------------------------------
# skeleton


def skeleton(a: dict[str, np.ndarray], scale: float) -> np.ndarray:
    """(T, 19, 3) body-frame positions (x forward, y left, z up, pelvis at 0) from per-side joint angles.

    ``a`` holds arrays for ``hip_l/hip_r`` and ``knee_l/knee_r`` (flexion), ``abd`` (leg spread), ``cross`` (ski
    crossing), ``spine`` (forward flexion; negative arches), ``sh_flex_l/r`` (0 arm down, pi overhead),
    ``sh_abd_l/r`` (sideways), ``elbow_l/r``.
    """
    T = a["spine"].shape[0]
    z = np.zeros(T)
    sp = a["spine"]
    up = np.stack([np.sin(sp), z, np.cos(sp)], -1)
    fw = np.stack([np.cos(sp), z, -np.sin(sp)], -1)
    lat = np.stack([z, z + 1.0, z], -1)
    s = scale
    pts = np.zeros((T, len(POINTS), 3))
    neck = 0.52 * s * up
    pts[:, P["neck"]] = neck
    pts[:, P["head"]] = neck + 0.21 * s * up
    for side, sg in (("l", 1.0), ("r", -1.0)):
        sf, sa, el = a[f"sh_flex_{side}"], a[f"sh_abd_{side}"], a[f"elbow_{side}"]
        sh = neck - 0.05 * s * up + sg * 0.19 * s * lat
        ca = np.cos(sa)[:, None]
        d1 = np.sin(sf)[:, None] * ca * fw + sg * np.sin(sa)[:, None] * lat - np.cos(sf)[:, None] * ca * up
        d2 = np.sin(sf + el)[:, None] * ca * fw + sg * np.sin(sa)[:, None] * lat - np.cos(sf + el)[:, None] * ca * up
        elbow = sh + 0.30 * s * d1
        pts[:, P[f"{side}_shoulder"]] = sh
        pts[:, P[f"{side}_elbow"]] = elbow
        pts[:, P[f"{side}_hand"]] = elbow + 0.31 * s * d2
        # legs in the pelvis frame
        f, k = a[f"hip_{side}"], a[f"knee_{side}"]
        ab = a["abd"] - 0.35 * a["cross"]
        cb = np.cos(ab)
        hip = np.stack([z, z + sg * 0.1 * s, z - 0.05 * s], -1)
        thigh = np.stack([np.sin(f) * cb, sg * np.sin(ab), -np.cos(f) * cb], -1)
        g = f - k
        shank = np.stack([np.sin(g) * cb, sg * np.sin(ab), -np.cos(g) * cb], -1)
        knee = hip + 0.45 * s * thigh
        ankle = knee + 0.45 * s * shank
        c = -sg * a["cross"]
        ski = np.stack([np.cos(g) * np.cos(c), np.sin(c), np.sin(g) * np.cos(c)], -1)
        boot = ankle + 0.07 * s * shank
        pts[:, P[f"{side}_hip"]] = hip
        pts[:, P[f"{side}_knee"]] = knee
        pts[:, P[f"{side}_ankle"]] = ankle
        pts[:, P[f"{side}_ski_tip"]] = boot + 1.0 * ski
        pts[:, P[f"{side}_ski_tail"]] = boot - 0.7 * ski
    return pts


# --------------------------------------------------------------------------------------------------------------
# the jump


def _sides(base: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {"spine": base["spine"].copy(), "abd": np.zeros_like(base["spine"]), "cross": np.zeros_like(base["spine"])}
    for side in ("l", "r"):
        out[f"hip_{side}"] = base["hip"].copy()
        out[f"knee_{side}"] = base["knee"].copy()
        out[f"sh_flex_{side}"] = base["sh_flex"].copy()
        out[f"sh_abd_{side}"] = base["sh_abd"].copy()
        out[f"elbow_{side}"] = base["elbow"].copy()
    return out


def _stage_window(spec: JumpSpec, f: Fault, t: np.ndarray) -> np.ndarray:
    """0..1 envelope of a fault over absolute times ``t`` (its window is in fractions of its stage)."""
    t_lip = spec.inrun_time
    t_td = t_lip + spec.flight_time
    a, b = dict(zip(STAGES, ((0.0, t_lip), (t_lip, t_td), (t_td, spec.duration))))[f.stage]
    return window(t, a + f.start * (b - a), a + f.end * (b - a), ramp=0.12)


def _flight_keys(spec: JumpSpec) -> tuple[list[tuple[float, dict]], list[tuple[float, float, float]]]:
    """Pose keys in somersault progress p (0 at the lip, 1 at touchdown) and twist windows (p0, p1, turns)."""

    jc = parse_jump_code(spec.code)
    n = jc.n_somersaults
    keys: list[tuple[float, dict]] = [(0.0, EXTEND)]
    twists: list[tuple[float, float, float]] = []
    for k, som in enumerate(jc.somersaults):
        a, b = k / n, (k + 1) / n
        L = b - a
        tail = max(0.12 * L, 0.1) if k == n - 1 else 0.12 * L
        if som.shape in ("tuck", "pike"):
            pose = TUCK if som.shape == "tuck" else PIKE
            keys += [(a + 0.15 * L, pose), (b - max(0.22 * L, tail), pose)]
        elif som.twists:
            keys += [(a + 0.08 * L, LAYOUT_TWIST), (b - tail, LAYOUT_TWIST)]
        else:
            keys += [(a + 0.1 * L, LAYOUT_OPEN), (b - tail, LAYOUT_OPEN)]
        if som.twists:
            twists.append((a + 0.1 * L, b - 0.12 * L, float(som.twists)))
    last = keys[-1][0]
    keys += [(max(last + 0.02, 0.93), PRELAND), (1.0, PRELAND)]
    return keys, twists


def _progress(spec: JumpSpec, keys) -> tuple[np.ndarray, np.ndarray]:
    """Somersault progress p(u) on a fine grid of normalised flight time u: faster while tucked or piked
    (smaller moment of inertia), slower while opening for the landing."""
    u = np.linspace(0.0, 1.0, 513)
    p = u.copy()
    for _ in range(2):
        tuck = keyframes(p, keys)["tuck"]
        rate = (1.0 + 0.7 * tuck) * (1.0 - 0.45 * smoothstep((u - 0.8) / 0.2))
        c = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]))])
        p = c / c[-1]
    return u, p


def _twist_angle(spec: JumpSpec, p: np.ndarray, twists) -> np.ndarray:
    """Twist angle at somersault progress ``p``; early twist starts the first twist sooner, a late finish
    stretches the last one towards touchdown."""
    early, late = spec.severity("early_twist"), spec.severity("late_twist_finish")
    uneven = spec.fault("uneven_twists")
    if uneven is not None and len(twists) >= 2:
        # part of one somersault's twisting is done in the next (or the previous) one: the total is unchanged
        twists = list(twists)
        k = 0 if uneven.direction > 0 else len(twists) - 2
        (a0, b0, t0), (a1, b1, t1) = twists[k], twists[k + 1]
        moved = min(t0, t1) * 0.6 * uneven.severity * uneven.direction
        twists[k], twists[k + 1] = (a0, b0, t0 - moved), (a1, b1, t1 + moved)
    psi = np.zeros_like(p)
    for i, (a, b, turns) in enumerate(twists):
        L = b - a
        if i == 0 and early:
            a, b = max(0.0, a - early * 0.6 * L), b - early * 0.4 * L
        if i == len(twists) - 1 and late:
            a, b = a + late * 0.3 * L, b + late * (1.0 - b)
        psi += spec.twist_dir * 2.0 * math.pi * turns * smoothstep((p - a) / max(b - a, 1e-6))
    return psi


@dataclass(frozen=True)
class _Clock:
    """Per-frame times: ``t`` seconds; masks of the stages; ``u`` normalised flight time (0 at the lip, 1 at
    touchdown); ``tau`` seconds since touchdown (0 before)."""

    t: np.ndarray
    ins: np.ndarray
    fli: np.ndarray
    lan: np.ndarray
    u: np.ndarray
    tau: np.ndarray
    t_lip: float
    t_td: float


def _clock(spec: JumpSpec, tl: Timeline) -> _Clock:
    t = tl.times
    t_lip, t_td = spec.inrun_time, spec.inrun_time + spec.flight_time
    return _Clock(
        t,
        t < t_lip,
        (t >= t_lip) & (t < t_td),
        t >= t_td,
        np.clip((t - t_lip) / spec.flight_time, 0.0, 1.0),
        np.maximum(t - t_td, 0.0),
        t_lip,
        t_td,
    )


def compute_motion(spec: JumpSpec, fps: float) -> Motion:
    """Joint positions of every frame of ``spec`` at ``fps``."""
    tl = timeline(spec, fps)
    clk = _clock(spec, tl)
    a, tuck, p, twists = _joint_angles(spec, clk)
    pitch, twist, ground_in, ground_la = _somersault_and_twist(spec, clk, p, twists)
    roll, yaw = np.zeros(tl.n_frames), np.zeros(tl.n_frames)
    _apply_faults(spec, a, clk.t, clk.u, clk.tau, pitch, roll, yaw, tuck, clk.fli, clk.lan)
    rel = np.einsum("tij,tkj->tki", orientation(pitch, twist, roll, yaw), skeleton(a, spec.athlete.height / 1.75))
    root, ground = _root_path(spec, tl, clk, rel, ground_in, ground_la)
    angles = {**a, "pitch": pitch, "twist": twist, "roll": roll, "yaw": yaw}
    return Motion(points=root[:, None, :] + rel, root=root, ground=ground, timeline=tl, angles=angles)


def _joint_angles(spec: JumpSpec, clk: _Clock):
    """Per-side joint angles of the base motion (no faults yet), the tuck weight, the somersault progress p and
    the twist windows. In-run crouch -> extension at the lip (incomplete after a weak take-off) -> the code's
    shapes in the air -> opening -> compression on touchdown (deeper after a hard one) -> skiing stance."""
    weak = spec.severity("weak_takeoff")
    ext = {k: EXTEND[k] + (CROUCH[k] - EXTEND[k]) * 0.6 * weak for k in _PARAMS}
    ext["sh_flex"] = EXTEND["sh_flex"] - weak * 100 * _D
    base_in = keyframes(clk.t, [(0.0, CROUCH), (clk.t_lip - 0.5, CROUCH), (clk.t_lip, ext)])
    fkeys, twists = _flight_keys(spec)
    fkeys[0] = (0.0, ext)
    ug, pg = _progress(spec, fkeys)
    p = np.interp(clk.u, ug, pg)
    base_fl = keyframes(p, fkeys)
    hard = spec.severity("hard_compression")
    deep = {
        k: COMPRESS[k] + (hard * 45 * _D if k in ("hip", "knee") else hard * 20 * _D if k == "spine" else 0)
        for k in _PARAMS
    }
    rec = 0.45 + 0.3 * hard
    base_la = keyframes(clk.tau, [(0.0, PRELAND), (0.1 + 0.05 * hard, deep), (rec, STANCE), (rec + 0.5, SKIING)])
    base = {k: np.where(clk.ins, base_in[k], np.where(clk.fli, base_fl[k], base_la[k])) for k in _PARAMS}
    return _sides(base), base["tuck"], p, twists


def _somersault_and_twist(spec: JumpSpec, clk: _Clock, p: np.ndarray, twists):
    """Pitch and twist per frame, and the snow under the athlete in the in-run and the landing
    ((points (T, 2), surface angles (T,)) each). On the snow the body stands on the surface leaning slightly
    forward; in the air the pitch runs from the lip's to ``n`` turns minus the landing lean."""

    n_som = parse_jump_code(spec.code).n_somersaults
    kick, fl = spec.kicker(), spec.flight()
    g_in, beta_in = course.inrun_positions(kick, spec.speed, np.maximum(clk.t_lip - clk.t, 0.0))
    early = spec.severity("early_rotation")
    lean = 8 * _D
    pitch_in = beta_in - lean + early * 40 * _D * smoothstep((clk.t - (clk.t_lip - 0.35)) / 0.35)
    pitch_lip = spec.kicker_angle - lean + early * 40 * _D
    ou = spec.fault("over_under_rotation")
    pitch_end = 2 * math.pi * n_som - 30 * _D + ((ou.direction * ou.severity * 50 * _D) if ou else 0.0)
    pitch_fl = pitch_lip + (pitch_end - pitch_lip) * p
    twist_fl = _twist_angle(spec, p, twists)
    # after touchdown the athlete slides down the hill, keeping the speed along the slope
    vx, vz = fl.velocity(fl.duration)
    beta_td = -course.HILL_ANGLE if fl.landing_x > course.KNOLL_END else 0.0
    v_along = vx * math.cos(beta_td) + vz * math.sin(beta_td)
    crash = spec.severity("crash")
    g_la, beta_la = course.landing_positions(
        fl.landing_x, v_along * (1.0 - 0.4 * crash), clk.tau, accel=2.0 - 3.5 * crash
    )
    stance = 2 * math.pi * n_som + beta_la - 5 * _D
    pitch_la = stance + (pitch_end - stance[0]) * np.exp(-clk.tau / 0.12)
    total_twist = float(_twist_angle(spec, np.ones(1), twists)[0])
    pitch = np.where(clk.ins, pitch_in, np.where(clk.fli, pitch_fl, pitch_la))
    twist = np.where(clk.ins, 0.0, np.where(clk.fli, twist_fl, total_twist))
    return pitch, twist, (g_in, beta_in), (g_la, beta_la)


def _root_path(spec: JumpSpec, tl: Timeline, clk: _Clock, rel: np.ndarray, ground_in, ground_la):
    """Pelvis (T, 3) and the snow point below it (T, 3): on the snow the lowest body point touches the
    surface; in the air the ballistic flight, joined smoothly to the take-off and the touchdown."""
    T = tl.n_frames
    kick, fl = spec.kicker(), spec.flight()
    (g_in, beta_in), (g_la, beta_la) = ground_in, ground_la
    placed_in = _place(rel, g_in, beta_in)
    placed_la = _place(rel, g_la, beta_la)
    fp = fl.position(clk.t - clk.t_lip)
    # the flight starts where the take-off left the pelvis (placed with the last take-off pose, so that nothing
    # done in the air moves the root or the cameras); the small offset to the ideal ballistic start fades
    lip_fix = _place(
        rel[[max(min(tl.lip, T - 1) - 1, 0)]], np.array([[0.0, kick.height]]), np.array([spec.kicker_angle])
    )[0]
    off0 = lip_fix - np.array([fl.x0, 0.0, fl.z0])
    root_fl = np.stack([fp[:, 0], np.zeros(T), fp[:, 1]], -1) + off0 * (1.0 - smoothstep(clk.u / 0.25))[:, None]
    td_pos = np.array([fl.landing_x, 0.0, fl.position(np.array([fl.duration]))[0, 1]])
    off1 = td_pos - placed_la[min(tl.touch, T - 1)]
    root_la = placed_la + off1 * np.exp(-clk.tau / 0.06)[:, None]
    root = np.zeros((T, 3))
    ground = np.zeros((T, 3))
    ins, fli, lan = clk.ins, clk.fli, clk.lan
    root[ins], root[fli], root[lan] = placed_in[ins], root_fl[fli], root_la[lan]
    ground[ins] = np.stack([g_in[:, 0], np.zeros(T), g_in[:, 1]], -1)[ins]
    ground[lan] = np.stack([g_la[:, 0], np.zeros(T), g_la[:, 1]], -1)[lan]
    gx = root[fli, 0]
    ground[fli] = np.stack([gx, np.zeros_like(gx), _snow_below(gx, kick)], -1)
    return root, ground


def _snow_below(x: np.ndarray, kick: course.Kicker) -> np.ndarray:
    arc = kick.arc()
    z_kick = np.interp(x, arc[:, 0], arc[:, 1], left=0.0, right=0.0)
    return np.where(x < 0.0, z_kick, course.terrain_z(np.maximum(x, 0.0)))


def _place(rel: np.ndarray, g: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Pelvis positions (T, 3) that put the lowest body or ski point on the snow plane through ``g`` (T, 2)
    with surface angle ``beta`` (T,)."""
    n = np.stack([-np.sin(beta), np.zeros_like(beta), np.cos(beta)], -1)
    low = np.min(np.einsum("tkj,tj->tk", rel, n), axis=1)
    gp = np.stack([g[:, 0], np.zeros(len(g)), g[:, 1]], -1)
    return gp + (0.03 - low)[:, None] * n


def _apply_faults(spec: JumpSpec, a, t, u, tau, pitch, roll, yaw, tuck, fli, lan) -> None:
    """Change the angles (in place) inside each fault's window."""
    for f in spec.faults:
        s = f.severity
        env = _stage_window(spec, f, t)
        item = f.item
        if item == "bent_knees":
            for side in ("l", "r"):
                a[f"knee_{side}"] += s * 70 * _D * env
                a[f"hip_{side}"] += s * 20 * _D * env
        elif item == "legs_apart":
            a["abd"] += s * 35 * _D * env
        elif item == "crossed_skis":
            a["cross"] += s * 35 * _D * env
        elif item == "arms_flailing":
            w = 2 * math.pi * 2.5 * t
            a["sh_flex_l"] += s * 80 * _D * env * np.sin(w)
            a["sh_flex_r"] += s * 80 * _D * env * np.sin(w + 2.2)
            a["sh_abd_l"] += s * 70 * _D * env * np.abs(np.sin(w + 0.7))
            a["sh_abd_r"] += s * 70 * _D * env * np.abs(np.sin(w + 2.9))
            a["elbow_l"] *= 1.0 - 0.8 * env
            a["elbow_r"] *= 1.0 - 0.8 * env
        elif item == "pike_in_layout":
            lay = env * (1.0 - tuck)
            for side in ("l", "r"):
                a[f"hip_{side}"] += s * 60 * _D * lay
            a["spine"] += s * 20 * _D * lay
        elif item == "arch_in_layout":
            lay = env * (1.0 - tuck)
            for side in ("l", "r"):
                a[f"hip_{side}"] -= s * 30 * _D * lay
                a[f"knee_{side}"] += s * 15 * _D * lay
            a["spine"] -= s * 30 * _D * lay
        elif item == "loss_of_axis":
            roll += s * 35 * _D * env * (0.7 + 0.3 * np.sin(2 * math.pi * 1.3 * t))
        elif item == "landing_imbalance":
            w = 2 * math.pi * 1.6 * tau
            pitch += s * 30 * _D * env * np.sin(w) * f.direction
            roll += s * 20 * _D * env * np.sin(0.7 * w + 1.0)
            a["sh_abd_l"] += s * 70 * _D * env * np.abs(np.sin(w))
            a["sh_abd_r"] += s * 70 * _D * env * np.abs(np.sin(w + 1.5))
            a["sh_flex_l"] += s * 60 * _D * env * np.sin(w + 0.5)
            a["sh_flex_r"] -= s * 60 * _D * env * np.sin(w + 0.5)
        elif item == "over_under_rotation":
            w = 2 * math.pi * 1.4 * tau
            a["sh_abd_l"] += s * 80 * _D * env * np.abs(np.sin(w))
            a["sh_abd_r"] += s * 80 * _D * env * np.abs(np.sin(w + 1.2))
        elif item == "turn_on_landing":
            yaw += f.direction * s * 110 * _D * smoothstep((tau - 0.1) / 0.5) * lan
        elif item == "hand_drag":
            side = "l" if f.direction > 0 else "r"
            roll += f.direction * (20 + 20 * s) * _D * env
            for sd in ("l", "r"):
                a[f"hip_{sd}"] += 30 * _D * env
                a[f"knee_{sd}"] += 30 * _D * env
            a[f"sh_abd_{side}"] += (70 * _D - a[f"sh_abd_{side}"]) * env
            a[f"sh_flex_{side}"] += (20 * _D - a[f"sh_flex_{side}"]) * env
            a[f"elbow_{side}"] *= 1.0 - env
        elif item == "no_weight_on_skis":
            # lands on the back and slides on it, skis in the air, until the end of the clip
            pitch += (95 + 25 * s) * _D * env
            for sd in ("l", "r"):
                a[f"hip_{sd}"] += 70 * _D * env
                a[f"knee_{sd}"] += 40 * _D * env
                a[f"sh_abd_{sd}"] += 60 * _D * env
        elif item in ("back_slap", "body_contact"):
            if item == "back_slap":
                pitch += (55 + 35 * s) * _D * env
            else:
                roll += f.direction * (70 + 20 * s) * _D * env
                pitch += 30 * _D * env
            for sd in ("l", "r"):
                a[f"hip_{sd}"] += 40 * _D * env
                a[f"sh_abd_{sd}"] += 50 * _D * env
        elif item == "crash":
            spin = 2 * math.pi * (0.6 + 0.8 * s) * (1.0 - np.exp(-tau / 0.35)) * lan
            pitch += spin
            roll += f.direction * 60 * _D * np.sin(2 * math.pi * 1.3 * tau) * lan * np.exp(-tau / 0.8)
            a["abd"] += 30 * _D * lan
            for sd, ph in (("l", 0.0), ("r", 1.9)):
                a[f"sh_abd_{sd}"] += 80 * _D * lan
                a[f"sh_flex_{sd}"] += 70 * _D * np.sin(2 * math.pi * 2.0 * tau + ph) * lan
                a[f"knee_{sd}"] += 50 * _D * (0.5 + 0.5 * np.sin(2 * math.pi * 1.7 * tau + ph)) * lan
        # early_rotation, weak_takeoff, short_flight, long_flight, early_twist and late_twist_finish act on the
        # take-off pose, the speed and the twist schedule (compute_motion, spec._finish_physics).
