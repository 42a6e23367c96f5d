"""The aerials site and the athlete's path through it: in-run, kicker, ballistic flight, landing hill, out-run.

World coordinates in metres: ``x`` horizontal in the direction of travel (down the landing hill), ``y`` lateral
(to the athlete's left), ``z`` up. The kicker lip is at ``x = 0``, ``z = kicker.height``; the table in front of
the kicker and the knoll behind it are at ``z = 0``; the landing hill falls at 37 degrees after the knoll and runs
out on a flat out-run. Everything here is 2-D in the (x, z) plane; the athlete moves along ``y = 0``.

Flight follows from take-off speed and angle alone (g = 9.81, no drag): the athlete's pelvis leaves the lip with
speed ``v`` at the kicker angle and lands where the trajectory meets the hill.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

G = 9.81
HILL_ANGLE = math.radians(37.0)
KNOLL_END = 4.5  # m: flat knoll from the lip to here, then the landing hill
HILL_LENGTH = 22.0  # m, horizontal
HILL_DROP = HILL_LENGTH * math.tan(HILL_ANGLE)
OUTRUN_LENGTH = 70.0
TABLE_LENGTH = 8.0
KICKER_ZONE = 5.5  # m: the table under the kicker, before the lip
INRUN_ANGLE = math.radians(24.0)
INRUN_LENGTH = 45.0  # m along the slope
PELVIS_HEIGHT = 1.0  # m: pelvis above the snow for a standing athlete, along the surface normal
TOUCHDOWN_CLEARANCE = 0.9  # m: the skis touch the snow when the pelvis is this high above it
IDEAL_LANDING_X = KNOLL_END + 6.0  # m: "as far from the knoll as the jump is high" (docs/rules.md, "Components")


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)  # cached: nobody may change it
    return a


@dataclass(frozen=True)
class Kicker:
    """A circular-arc kicker: horizontal where it leaves the table, ``angle`` (radians) at the lip, ``height`` m."""

    angle: float
    height: float

    @property
    def radius(self) -> float:
        return self.height / (1.0 - math.cos(self.angle))

    @property
    def x_start(self) -> float:
        return -self.radius * math.sin(self.angle)

    def arc(self, n: int = 24) -> np.ndarray:
        """(n, 2) points (x, z) of the kicker surface from the table to the lip."""
        a = np.linspace(0.0, self.angle, n)
        r = self.radius
        return np.stack([self.x_start + r * np.sin(a), r * (1.0 - np.cos(a))], axis=1)


@functools.lru_cache(maxsize=None)
def landing_profile() -> np.ndarray:
    """(n, 2) polyline (x, z) of the snow from the lip to the end of the out-run (knoll, hill, rounded foot)."""
    pts = [(0.0, 0.0), (KNOLL_END - 0.8, 0.0)]
    for a in np.linspace(0.0, HILL_ANGLE, 4)[1:]:  # rounded edge of the knoll
        pts.append((KNOLL_END - 0.8 + 1.6 * a / HILL_ANGLE, -0.6 * (a / HILL_ANGLE) ** 2))
    x_foot = KNOLL_END + HILL_LENGTH
    pts.append((x_foot - 2.0, -HILL_DROP + 2.0 * math.tan(HILL_ANGLE)))
    for a in np.linspace(HILL_ANGLE, 0.0, 4)[1:]:  # transition into the out-run
        f = 1.0 - a / HILL_ANGLE
        pts.append((x_foot - 2.0 + 4.5 * f, -HILL_DROP + 2.0 * math.tan(HILL_ANGLE) * (1 - f) ** 2 - 0.4 * f))
    pts.append((x_foot + OUTRUN_LENGTH, pts[-1][1]))
    return _frozen(np.asarray(pts, dtype=np.float64))


def inrun_profile(kicker: Kicker) -> np.ndarray:
    """(n, 2) polyline (x, z) from the top of the in-run, over the table and up the kicker to the lip."""
    ground = ground_profile()
    before = ground[ground[:, 0] < kicker.x_start - 1e-6]
    pts = [tuple(p) for p in before[1:]] + [tuple(p) for p in kicker.arc()]
    return np.asarray(pts, dtype=np.float64)


class Polyline:
    """Arc-length parameterisation of a 2-D polyline: point, unit tangent and unit normal at distance ``s``."""

    def __init__(self, pts: np.ndarray):
        self.pts = pts
        seg = np.diff(pts, axis=0)
        self.seglen = np.hypot(seg[:, 0], seg[:, 1])
        self.s = np.concatenate([[0.0], np.cumsum(self.seglen)])
        self.tangent = seg / self.seglen[:, None]

    @property
    def length(self) -> float:
        return float(self.s[-1])

    def at(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points (n, 2), tangents (n, 2) and up-normals (n, 2) at arc lengths ``s`` (clamped to the ends)."""
        s = np.clip(np.asarray(s, dtype=np.float64), 0.0, self.length)
        x = np.interp(s, self.s, self.pts[:, 0])
        z = np.interp(s, self.s, self.pts[:, 1])
        i = np.clip(np.searchsorted(self.s, s, side="right") - 1, 0, len(self.tangent) - 1)
        t = self.tangent[i]
        n = np.stack([-t[:, 1], t[:, 0]], axis=1)
        return np.stack([x, z], axis=1), t, n

    def s_of_x(self, x: float) -> float:
        """Arc length at horizontal position ``x`` (the polyline is monotone in x)."""
        return float(np.interp(x, self.pts[:, 0], self.s))


@functools.lru_cache(maxsize=None)
def ground_profile() -> np.ndarray:
    """(n, 2) polyline (x, z) of the whole snow surface (without the kicker): in-run slope, table (which runs on
    under the kicker), knoll, landing hill, out-run. The site is this profile extruded along y."""
    x0 = -KICKER_ZONE - TABLE_LENGTH
    top = (x0 - INRUN_LENGTH * math.cos(INRUN_ANGLE), INRUN_LENGTH * math.sin(INRUN_ANGLE))
    trans = [(x0 - 3.0 * (1 - f), 3.0 * (1 - f) * math.tan(INRUN_ANGLE) * (1 - f)) for f in np.linspace(0, 1, 4)]
    far = (top[0] - 200.0, top[1] + 200.0 * math.tan(INRUN_ANGLE))
    return _frozen(np.concatenate([np.asarray([far, top] + trans[:-1]), landing_profile()], axis=0))


def height_at(x) -> np.ndarray:
    """Snow height of the site (kicker excluded) at ``x``."""
    prof = ground_profile()
    return np.interp(x, prof[:, 0], prof[:, 1])


def terrain_z(x: np.ndarray) -> np.ndarray:
    """Snow height of the landing side at ``x >= 0`` (knoll, hill, out-run)."""
    prof = landing_profile()
    return np.interp(x, prof[:, 0], prof[:, 1])


def lip_pelvis(kicker: Kicker) -> np.ndarray:
    """(x, z) of the pelvis of an extended athlete whose skis are on the lip."""
    n = np.array([-math.sin(kicker.angle), math.cos(kicker.angle)])
    return np.array([0.0, kicker.height]) + PELVIS_HEIGHT * n


def ideal_speed(kicker: Kicker, x_target: float = IDEAL_LANDING_X) -> float:
    """Take-off speed whose pelvis trajectory touches down at ``x_target`` on the hill."""
    p0 = lip_pelvis(kicker)
    dx = x_target - p0[0]
    dz = float(terrain_z(np.array([x_target]))[0]) + TOUCHDOWN_CLEARANCE - p0[1]
    c, t = math.cos(kicker.angle), math.tan(kicker.angle)
    return math.sqrt(G * dx * dx / (2.0 * c * c * (dx * t - dz)))


@dataclass(frozen=True)
class Flight:
    """Ballistic pelvis flight: start (x, z), velocity (vx, vz), duration, apex height above the lip, landing x."""

    x0: float
    z0: float
    vx: float
    vz: float
    duration: float

    def position(self, t: np.ndarray) -> np.ndarray:
        """(n, 2) pelvis positions at times ``t`` after take-off."""
        t = np.asarray(t, dtype=np.float64)
        return np.stack([self.x0 + self.vx * t, self.z0 + self.vz * t - 0.5 * G * t * t], axis=1)

    def velocity(self, t: float) -> tuple[float, float]:
        return self.vx, self.vz - G * t

    @property
    def apex(self) -> float:
        """Highest pelvis height above its take-off height (m)."""
        return self.vz * self.vz / (2.0 * G)

    @property
    def landing_x(self) -> float:
        return self.x0 + self.vx * self.duration


def flight(kicker: Kicker, speed: float, angle: float | None = None) -> Flight:
    """Flight of the pelvis leaving the lip at ``speed`` (m/s) and ``angle`` (radians, default the kicker's):
    touchdown is the first time after the apex that the pelvis is ``TOUCHDOWN_CLEARANCE`` above the snow."""
    a = kicker.angle if angle is None else angle
    x0, z0 = lip_pelvis(kicker)
    vx, vz = speed * math.cos(a), speed * math.sin(a)
    t_apex = vz / G
    # bracket: from the apex until far below the out-run
    t = np.linspace(t_apex, t_apex + 8.0, 4001)
    x = x0 + vx * t
    z = z0 + vz * t - 0.5 * G * t * t
    gap = z - (terrain_z(x) + TOUCHDOWN_CLEARANCE)
    k = int(np.argmax(gap <= 0.0))
    if k == 0:
        dur = float(t[0])
    else:
        f = gap[k - 1] / (gap[k - 1] - gap[k])
        dur = float(t[k - 1] + f * (t[k] - t[k - 1]))
    return Flight(float(x0), float(z0), vx, vz, dur)


def inrun_positions(kicker: Kicker, speed: float, time_to_lip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ground point (n, 2) and surface angle (n,) (radians, positive uphill) of the athlete ``time_to_lip``
    seconds before leaving the lip; the speed follows from energy (no friction): ``v^2 = v_lip^2 + 2 g dz``."""
    line = Polyline(inrun_profile(kicker))
    s = np.linspace(0.0, line.length, 600)
    pts, _, _ = line.at(s)
    z_lip = kicker.height
    v = np.sqrt(speed * speed + 2.0 * G * np.maximum(z_lip - pts[:, 1], 0.0))
    # time from each sample to the lip: integrate ds / v backwards from the end
    dt = np.diff(s) / (0.5 * (v[1:] + v[:-1]))
    t_to_lip = np.concatenate([np.cumsum(dt[::-1])[::-1], [0.0]])
    s_at = np.interp(np.asarray(time_to_lip, dtype=np.float64), t_to_lip[::-1], s[::-1])
    p, tan, _ = line.at(s_at)
    return p, np.arctan2(tan[:, 1], tan[:, 0])


def landing_positions(
    touch_x: float, speed_along: float, tau: np.ndarray, accel: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Ground point (n, 2) and surface angle (n,) ``tau`` seconds after touchdown at ``touch_x``, sliding along the
    hill at ``speed_along`` m/s with constant acceleration ``accel`` (speed never negative)."""
    line = Polyline(landing_profile())
    tau = np.asarray(tau, dtype=np.float64)
    v = np.maximum(speed_along + accel * tau, 0.0)
    s = line.s_of_x(touch_x) + 0.5 * (speed_along + v) * tau
    p, tan, _ = line.at(s)
    return p, np.arctan2(tan[:, 1], tan[:, 0])
