"""Drawing a jump with OpenCV on numpy frames: sky, mountains, the snow site, kicker, markers, flags, crowd,
trees, the athlete's shadow and the articulated athlete with skis.

The site is a height field along x (``course.ground_profile`` extruded along y), so painting its strips from the
farthest to the nearest in x (as seen from the camera's x) hides what should be hidden; objects on the snow
(kicker, flags, trees, crowd, athlete) are painted in the same order by their x. The athlete's limbs are painted
in depth order. Colours are BGR; everything is anti-aliased with sub-pixel coordinates (``shift``).

``render_frames(view)`` yields one frame at a time, so a video is never held in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np

from judgemind.rules.names import DEFAULT_FPS
from judgemind.synth import course
from judgemind.synth.camera import NEAR, JumpView, shot_frames, view_jump
from judgemind.synth.motion import P
from judgemind.synth.spec import JumpSpec

SHIFT = 4
_ONE = 1 << SHIFT
AA = cv2.LINE_AA
Y_EXTENT = 400.0


# --------------------------------------------------------------------------------------------------------------
# static world geometry


@dataclass
class Item:
    """Something to paint: ``kind`` "poly" (filled), "line" (polyline, ``width`` m), "crowd" (textured quad);
    ``verts`` (k, 3) world; ``key`` x used for the painting order; ``color`` BGR before exposure."""

    kind: str
    verts: np.ndarray
    key: float
    color: tuple[float, float, float]
    width: float = 0.0
    span: tuple[float, float] | None = None  # x interval of terrain strips (painting order)


def _shade(color, normal, sun_dir, ambient) -> tuple[float, float, float]:
    lam = ambient + (1.0 - ambient) * max(0.0, float(np.dot(normal, sun_dir)))
    return tuple(float(c) * lam for c in color)


def _sun(spec: JumpSpec) -> np.ndarray:
    az, el = spec.scene.sun
    return np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])


def _terrain_items(spec: JumpSpec, sun: np.ndarray) -> list[Item]:
    """One flat strip per straight piece of the ground profile (split at the camera's x per shot)."""
    prof = course.ground_profile()
    prof = np.concatenate([prof, [[400.0, prof[-1, 1]]]])
    items = []
    snow = spec.scene.snow
    amb = spec.scene.ambient
    for (x0, z0), (x1, z1) in zip(prof[:-1], prof[1:]):
        if x1 - x0 < 1e-6:
            continue
        nrm = np.array([-(z1 - z0), 0.0, x1 - x0])
        nrm /= np.linalg.norm(nrm)
        verts = np.array([[x0, -Y_EXTENT, z0], [x1, -Y_EXTENT, z1], [x1, Y_EXTENT, z1], [x0, Y_EXTENT, z0]])
        items.append(Item("strip", verts, 0.5 * (x0 + x1), _shade(snow, nrm, sun, amb), span=(x0, x1)))
    return items


def _split_strip(it: Item, x: float) -> list[Item]:
    """Cut a terrain strip at ``x`` (the camera's x) so that each part can be painted in order."""
    a, b = it.span
    if not a < x < b:
        return [Item("ground", it.verts, it.key, it.color, span=it.span)]
    v = it.verts
    f = (x - a) / (b - a)
    z = v[0, 2] + f * (v[1, 2] - v[0, 2])
    left = np.array([v[0], [x, -Y_EXTENT, z], [x, Y_EXTENT, z], v[3]])
    right = np.array([[x, -Y_EXTENT, z], v[1], v[2], [x, Y_EXTENT, z]])
    return [
        Item("ground", left, 0.5 * (a + x), it.color, span=(a, x)),
        Item("ground", right, 0.5 * (x + b), it.color, span=(x, b)),
    ]


def _kicker_items(spec: JumpSpec, sun: np.ndarray, cam: np.ndarray) -> list[Item]:
    kick = spec.kicker()
    arc = kick.arc(5)
    w = 1.6
    amb = spec.scene.ambient
    base = tuple(0.93 * c for c in spec.scene.snow)
    items = []
    side = w if cam[1] > 0 else -w
    span = (kick.x_start, 0.0)
    side_color = _shade(base, np.array([0, np.sign(side), 0.0]), sun, amb * 0.9)
    for (xa, za), (xb, zb) in zip(arc[:-1], arc[1:]):  # the side wall in convex slices
        verts = np.array([[xa, side, 0.0], [xb, side, 0.0], [xb, side, zb], [xa, side, za]])
        items.append(Item("poly", verts, kick.x_start * 0.5, side_color, span=span))
    for (xa, za), (xb, zb) in zip(arc[:-1], arc[1:]):
        nrm = np.array([-(zb - za), 0.0, xb - xa])
        nrm /= np.linalg.norm(nrm)
        verts = np.array([[xa, -w, za], [xb, -w, zb], [xb, w, zb], [xa, w, za]])
        items.append(Item("poly", verts, kick.x_start * 0.5, _shade(spec.scene.snow, nrm, sun, amb), span=span))
    if cam[0] > 0:
        verts = np.array([[0, -w, 0], [0, w, 0], [0, w, kick.height], [0, -w, kick.height]], dtype=np.float64)
        items.append(
            Item("poly", verts, kick.x_start * 0.5, _shade(base, np.array([1.0, 0, 0]), sun, amb * 0.8), span=span)
        )
    # blue take-off line on the lip
    items.append(
        Item(
            "line",
            np.array([[0.02, -w, kick.height], [0.02, w, kick.height]]),
            kick.x_start * 0.5,
            spec.scene.marker,
            width=0.15,
            span=span,
        )
    )
    return items


def _site_items(spec: JumpSpec, sun: np.ndarray, rng: np.random.Generator, cams: list[np.ndarray]) -> list[Item]:
    items = []
    marker = tuple(0.6 * m + 0.4 * s for m, s in zip(spec.scene.marker, spec.scene.snow))
    for x in np.arange(course.KNOLL_END + 2.0, course.KNOLL_END + course.HILL_LENGTH, 3.0):
        z = float(course.height_at(x)) + 0.03
        items.append(Item("line", np.array([[x, -11.0, z], [x, 11.0, z]]), float(x), marker, width=0.15))
    for x in (-12.0, -6.0):
        items.append(Item("line", np.array([[x, -6.0, 0.03], [x, 6.0, 0.03]]), x, marker, width=0.2))
    flag_colors = [(30, 30, 210), (30, 160, 30), (200, 80, 20), (20, 180, 230)]
    for x in np.arange(-10.0, 30.0, 6.0):
        for y in (-12.5, 12.5):
            z = float(course.height_at(x))
            items.append(Item("line", np.array([[x, y, z], [x, y, z + 1.7]]), float(x), (60, 60, 60), width=0.05))
            c = flag_colors[int(rng.integers(len(flag_colors)))]
            items.append(Item("poly", np.array([[x, y, z + 1.7], [x + 0.6, y, z + 1.5], [x, y, z + 1.3]]), float(x), c))
    # spectators' stands beside the foot of the hill
    for y in (-17.0, 17.0):
        x0, x1 = 24.0, 36.0
        h0, h1 = float(course.height_at(x0)), float(course.height_at(x1))
        verts = np.array([[x0, y, h0 + 3.0], [x1, y, h1 + 3.0], [x1, y, h1], [x0, y, h0]])
        items.append(Item("crowd", verts, 30.0, (1.0, 1.0, 1.0)))
    # trees beside the in-run and the out-run, never between a camera and the athlete's path
    green = [(40, 90, 30), (30, 70, 25), (50, 100, 45)]
    path = np.array([[x, 0.0, float(course.height_at(x)) + 2.0] for x in (-12, -6, 0, 4, 8, 12, 16, 22, 28)])
    for _ in range(14):
        x = float(rng.choice([rng.uniform(-80, -20), rng.uniform(40, 90)]))
        y = float(rng.choice([-1, 1]) * rng.uniform(18, 70))
        p = np.array([x, y])
        if any(_near_sightline(p, np.asarray(c), path, 8.0) for c in cams):
            continue
        h = float(rng.uniform(6, 14))
        z = float(course.height_at(x))
        items.append(
            Item(
                "tree", np.array([[x, y, z + h], [x, y, z], [x, y, z]]), x, green[int(rng.integers(3))], width=h * 0.35
            )
        )
    return items


def _near_sightline(p: np.ndarray, cam: np.ndarray, path: np.ndarray, radius: float) -> bool:
    """Is the ground point ``p`` (x, y) within ``radius`` of a line of sight from ``cam`` to the path (top view),
    or of the camera itself?"""
    c = cam[:2]
    if np.hypot(*(p - c)) < radius * 2:
        return True
    for q in path[:, :2]:
        d = q - c
        t = float(np.clip(np.dot(p - c, d) / max(np.dot(d, d), 1e-9), 0.0, 1.0))
        if np.hypot(*(c + t * d - p)) < radius:
            return True
    return False


def _crowd_texture(spec: JumpSpec) -> np.ndarray:
    rng = np.random.default_rng(spec.scene.crowd_seed)
    h, w = 24, 96
    tex = np.full((h, w, 3), (70, 60, 55), np.uint8)
    for _ in range(260):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        c = tuple(int(v) for v in rng.integers(20, 250, size=3))
        cv2.circle(tex, (x, y), int(rng.integers(1, 3)), c, -1)
    tex[:2] = (40, 40, 40)
    return tex


def _mountains(spec: JumpSpec) -> np.ndarray:
    """(n, 3) ridge points of a mountain ring around the site."""
    rng = np.random.default_rng(spec.scene.crowd_seed + 7)
    n = 96
    az = np.linspace(0, 2 * math.pi, n, endpoint=False)
    h = 60 + 90 * np.abs(np.sin(az * 2.0 + rng.uniform(0, 6))) + rng.uniform(0, 50, n)
    h = np.convolve(np.concatenate([h[-2:], h, h[:2]]), np.ones(5) / 5, mode="valid")
    r = 900.0
    return np.stack([10 + r * np.cos(az), r * np.sin(az), h - 17.0], -1)


# --------------------------------------------------------------------------------------------------------------
# drawing helpers


def _clip_near(c: np.ndarray) -> np.ndarray:
    """Clip a polygon in camera coordinates (k, 3) to depth >= NEAR (Sutherland-Hodgman)."""
    out = []
    k = len(c)
    for i in range(k):
        a, b = c[i], c[(i + 1) % k]
        ina, inb = a[2] >= NEAR, b[2] >= NEAR
        if ina:
            out.append(a)
        if ina != inb:
            t = (NEAR - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.array(out) if out else np.zeros((0, 3))


def _to_px(c: np.ndarray, f: float, half: float) -> np.ndarray:
    u = half + f * c[:, 0] / c[:, 2]
    v = half - f * c[:, 1] / c[:, 2]
    return np.round(np.stack([u, v], -1) * _ONE).astype(np.int64).clip(-(2**26), 2**26).astype(np.int32)


def _scale(color, k: float) -> tuple[int, int, int]:
    return tuple(int(min(255, max(0, c * k))) for c in color)


def _clip_plane(verts: np.ndarray, normal: np.ndarray, offset: float, closed: bool = True) -> np.ndarray:
    """Keep the part of a polygon (closed) or segment (open) with ``verts @ normal >= offset``."""
    d = verts @ normal - offset
    if (d >= 0).all():
        return verts
    if (d < 0).all():
        return verts[:0]
    if not closed:
        a, b = verts
        t = d[0] / (d[0] - d[1])
        cut = a + t * (b - a)
        return np.stack([a, cut]) if d[0] >= 0 else np.stack([cut, b])
    out = []
    k = len(verts)
    for i in range(k):
        a, b, da, db = verts[i], verts[(i + 1) % k], d[i], d[(i + 1) % k]
        if da >= 0:
            out.append(a)
        if (da >= 0) != (db >= 0):
            out.append(a + (da / (da - db)) * (b - a))
    return np.array(out)


@dataclass
class _ShotScene:
    """World items of one shot, in painting order, with their vertices stacked for one projection per frame."""

    kinds: list[str]
    widths: np.ndarray
    verts: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    colors: list[tuple[int, int, int]]
    keys: np.ndarray


def _shot_scene(items: list[Item], cam: np.ndarray, look: np.ndarray, exposure: float) -> _ShotScene:
    """Items of one shot (camera at ``cam``, looking roughly along the horizontal ``look``): trees turned to the
    camera, everything behind the camera cut away, sorted for painting."""

    def dist(it: Item) -> float:
        # the farthest x of the item from the camera's x: a strip under the athlete is painted before the
        # athlete, a strip wholly between the camera and the athlete after it
        a, b = it.span if it.span is not None else (it.key, it.key)
        return max(abs(cam[0] - a), abs(cam[0] - b))

    items = [p for it in items for p in (_split_strip(it, float(cam[0])) if it.kind == "strip" else [it])]
    order = sorted(items, key=dist, reverse=True)
    kinds, widths, verts, starts, ends, colors, keys = [], [], [], [], [], [], []
    n = 0
    for it in order:
        v = it.verts
        kind = it.kind
        if kind == "tree":
            apex, foot = v[0], v[1]
            side = np.cross(cam - foot, [0.0, 0.0, 1.0])
            side = side / max(np.linalg.norm(side), 1e-9) * it.width
            v = np.stack([apex, foot + side, foot - side])
            kind = "poly"
        if kind != "crowd":
            v = _clip_plane(v - cam, look, 1.5, closed=(kind in ("poly", "ground"))) + cam
            if len(v) < (3 if kind in ("poly", "ground") else 2):
                continue
        kinds.append(kind)
        widths.append(it.width)
        verts.append(v)
        starts.append(n)
        n += len(v)
        ends.append(n)
        colors.append(_scale(it.color, exposure))
        keys.append(dist(it))
    return _ShotScene(
        kinds, np.array(widths), np.concatenate(verts), np.array(starts), np.array(ends), colors, np.array(keys)
    )


class Painter:
    """Draws the frames of one :class:`JumpView`."""

    def __init__(self, view: JumpView):
        self.view = view
        spec = view.spec
        self.size = view.size
        self.half = view.size / 2.0
        sun = _sun(spec)
        rng = np.random.default_rng(spec.scene.crowd_seed + 3)
        cams = [np.asarray(s.position) for s in spec.shots]
        base = _terrain_items(spec, sun) + _site_items(spec, sun, rng, cams)
        self.crowd = _crowd_texture(spec)
        self.ridge = _mountains(spec)
        self.shot_scene: dict[int, _ShotScene] = {}
        self.exposure = {i: spec.scene.exposure[i % len(spec.scene.exposure)] for i in range(len(spec.shots))}
        cam = view.camera
        for i, a, b in shot_frames(spec, view.timeline):
            pos = np.asarray(spec.shots[i].position, dtype=np.float64)
            look = cam.axes[a:b, 2].mean(axis=0)
            look /= max(np.linalg.norm(look), 1e-9)
            self.shot_scene[i] = _shot_scene(base + _kicker_items(spec, sun, pos), pos, look, self.exposure[i])
        a = spec.athlete
        self.body_colors = {"jacket": a.jacket, "pants": a.pants, "helmet": a.helmet, "skis": a.skis}
        self.light = 0.55 + 0.45 * spec.scene.ambient
        self.sky_top = np.array(spec.scene.sky_top, float)
        self.sky_bottom = np.array(spec.scene.sky_bottom, float)
        self.shadow = _scale(spec.scene.snow, 0.72 if spec.scene.light != "overcast" else 0.85)
        self._prepare_athlete()

    # ---- per frame
    def frames(self) -> Iterator[np.ndarray]:
        view = self.view
        cam = view.camera
        for shot_i, a, b in shot_frames(view.spec, view.timeline):
            sc = self.shot_scene[shot_i]
            seg = slice(a, b)
            cc = np.einsum("tij,tnj->tni", cam.axes[seg], sc.verts[None, :, :] - cam.position[seg][:, None, :])
            ridge_c = np.einsum("tij,tnj->tni", cam.axes[seg], self.ridge[None] - cam.position[seg][:, None, :])
            for k in range(a, b):
                yield self._frame(k, shot_i, sc, cc[k - a], ridge_c[k - a])

    def _frame(self, k: int, shot_i: int, sc: _ShotScene, cc: np.ndarray, ridge_c: np.ndarray) -> np.ndarray:
        view = self.view
        size, half = self.size, self.half
        f = float(view.camera.focal[k])
        exp = self.exposure[shot_i]
        img = self._sky(k, exp)
        self._draw_ridge(img, ridge_c, f, exp)
        # project every vertex of the shot at once; cull items off the picture
        z = cc[:, 2]
        zs = np.where(z > NEAR, z, NEAR)
        u = half + f * cc[:, 0] / zs
        v = half - f * cc[:, 1] / zs
        px = np.stack([u, v], -1)
        px = np.round(px * _ONE).clip(-(2**26), 2**26).astype(np.int32)
        st = sc.starts
        zmin = np.minimum.reduceat(z, st)
        zmean = np.add.reduceat(z, st) / (sc.ends - st)
        m = size * 0.1
        on = (
            (np.maximum.reduceat(u, st) >= -m)
            & (np.minimum.reduceat(u, st) <= size + m)
            & (np.maximum.reduceat(v, st) >= -m)
            & (np.minimum.reduceat(v, st) <= size + m)
        ) | (zmin < NEAR)
        athlete_key = abs(float(view.motion.root[k, 0]) - float(view.camera.position[k, 0]))
        drawn_athlete = False
        kinds, colors, keys, ends, widths = sc.kinds, sc.colors, sc.keys, sc.ends, sc.widths
        for i in np.flatnonzero(on):
            if not drawn_athlete and keys[i] < athlete_key:
                self._draw_athlete(img, k, shot_i)
                drawn_athlete = True
            kind = kinds[i]
            a, b = st[i], ends[i]
            if kind == "poly" or kind == "ground":
                # every polygon is convex (fillConvexPoly is twice as fast as fillPoly); the snow's own edges
                # are soft anyway, so no anti-aliasing there
                lt = AA if kind == "poly" else cv2.LINE_8
                if zmin[i] < NEAR:
                    c = _clip_near(cc[a:b])
                    if len(c) < 3:
                        continue
                    cv2.fillConvexPoly(img, _to_px(c, f, half), colors[i], lt, SHIFT)
                else:
                    cv2.fillConvexPoly(img, px[a:b], colors[i], lt, SHIFT)
            elif kind == "line":
                if zmin[i] < NEAR:
                    continue
                th = max(1, int(round(widths[i] * f / zmean[i])))
                cv2.line(
                    img,
                    (int(px[a, 0]), int(px[a, 1])),
                    (int(px[a + 1, 0]), int(px[a + 1, 1])),
                    colors[i],
                    th,
                    AA,
                    SHIFT,
                )
            elif kind == "crowd":
                self._draw_crowd(img, cc[a:b], f, exp)
        if not drawn_athlete:
            self._draw_athlete(img, k, shot_i)
        return img

    def _sky(self, k: int, exp: float) -> np.ndarray:
        size = self.size
        fw = self.view.camera.axes[k, 2]
        elev = math.asin(max(-1.0, min(1.0, float(fw[2]))))
        f = float(self.view.camera.focal[k])
        v_h = self.half + f * math.tan(elev)
        rows = np.arange(size, dtype=np.float64)
        w = np.clip((v_h - rows) / (1.2 * size), 0.0, 1.0)[:, None]
        col = (self.sky_bottom * (1 - w) + self.sky_top * w) * exp
        col = np.clip(col, 0, 255).astype(np.uint8)
        return cv2.resize(col[:, None, :], (size, size), interpolation=cv2.INTER_NEAREST)

    def _draw_ridge(self, img, rc: np.ndarray, f: float, exp: float) -> None:
        front = rc[:, 2] > 0.25 * np.linalg.norm(rc, axis=1)
        if front.sum() < 2:
            return
        c = rc[front]
        u = self.half + f * c[:, 0] / c[:, 2]
        v = self.half - f * c[:, 1] / c[:, 2]
        o = np.argsort(u)
        pts = np.round(np.stack([u[o], v[o]], -1) * _ONE).clip(-(2**26), 2**26).astype(np.int32)
        # down to a little below the lowest ridge point: the snow covers the rest
        bottom = min(int(pts[:, 1].max()) + self.size * _ONE // 4, (self.size + 2) * _ONE)
        if bottom < 0:
            return
        poly = np.concatenate([[[pts[0, 0], bottom]], pts, [[pts[-1, 0], bottom]]]).astype(np.int32)
        cv2.fillPoly(img, [poly], _scale(self.view.spec.scene.mountains, exp), AA, SHIFT)

    def _draw_crowd(self, img, c: np.ndarray, f: float, exp: float) -> None:
        if c[:, 2].min() < NEAR:
            return
        u = self.half + f * c[:, 0] / c[:, 2]
        v = self.half - f * c[:, 1] / c[:, 2]
        if u.max() < 0 or u.min() > self.size or v.max() < 0 or v.min() > self.size:
            return
        if (u.max() - u.min()) > 50 * self.size:
            return
        h, w = self.crowd.shape[:2]
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32(np.stack([u, v], -1))
        m = cv2.getPerspectiveTransform(src, dst)
        tex = self.crowd if abs(exp - 1.0) < 1e-3 else cv2.convertScaleAbs(self.crowd, alpha=exp)
        cv2.warpPerspective(
            tex, m, (self.size, self.size), dst=img, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
        )

    # ---- athlete (everything that does not need the image is computed for all frames at once)
    _LIMBS = (  # (a, b, width m, colour key, shade)
        ("l_shoulder", "l_elbow", 0.11, "jacket", 0.85),
        ("l_elbow", "l_hand", 0.09, "jacket", 0.75),
        ("r_shoulder", "r_elbow", 0.11, "jacket", 1.0),
        ("r_elbow", "r_hand", 0.09, "jacket", 0.9),
        ("l_hip", "l_knee", 0.16, "pants", 0.85),
        ("l_knee", "l_ankle", 0.13, "pants", 0.8),
        ("r_hip", "r_knee", 0.16, "pants", 1.0),
        ("r_knee", "r_ankle", 0.13, "pants", 0.95),
        ("l_ski_tip", "l_ski_tail", 0.08, "skis", 0.9),
        ("r_ski_tip", "r_ski_tail", 0.08, "skis", 1.0),
        ("neck", "head", 0.1, "jacket", 0.9),
    )
    _TORSO = (P["l_shoulder"], P["r_shoulder"], P["r_hip"], P["l_hip"])
    _HEAD_RADIUS = 0.13

    def _prepare_athlete(self) -> None:
        view = self.view
        uv, depth = view.uv, view.depth
        f = view.camera.focal[:, None]
        la = np.array([P[a] for a, *_ in self._LIMBS])
        lb = np.array([P[b] for _, b, *_ in self._LIMBS])
        width = np.array([w for *_, w, _, _ in self._LIMBS])
        self.px = np.round(np.nan_to_num(uv, nan=0.0) * _ONE).clip(-(2**26), 2**26).astype(np.int32)
        ld = 0.5 * (depth[:, la] + depth[:, lb])
        lok = (depth[:, la] > NEAR) & (depth[:, lb] > NEAR)
        thick = np.maximum(1, np.round(width * f / np.maximum(ld, NEAR))).astype(np.int64)
        tor = list(self._TORSO)
        td = depth[:, tor].mean(axis=1)
        tok = depth[:, tor].min(axis=1) > NEAR
        hd = depth[:, P["head"]]
        hok = hd > NEAR
        hr = np.maximum(1, np.round(self._HEAD_RADIUS * f[:, 0] / np.maximum(hd, NEAR) * _ONE)).astype(np.int64)
        # drawing order per frame: far to near; index L = torso, L + 1 = head
        L = len(self._LIMBS)
        dd = np.concatenate([ld, td[:, None], hd[:, None] - 0.05], axis=1)
        ok = np.concatenate([lok, tok[:, None], hok[:, None]], axis=1)
        dd = np.where(ok, dd, -np.inf)
        order = np.argsort(-dd, axis=1, kind="stable")
        self.ath_order = [[int(i) for i in row if ok[t, i]] for t, row in enumerate(order)]
        self.ath_la, self.ath_lb, self.ath_thick, self.head_r, self.L = la, lb, thick, hr, L
        # chest towards the camera (to draw the bib)?
        pts = view.motion.points
        sh_l = pts[:, P["l_shoulder"]]
        front = np.cross(pts[:, P["r_shoulder"]] - sh_l, pts[:, P["l_hip"]] - sh_l)
        self.front = np.einsum("tj,tj->t", front, view.camera.position - pts[:, P["neck"]]) > 0.0
        # the shadow: an ellipse on the snow below the pelvis
        g = view.motion.ground
        h = view.motion.root[:, 2] - g[:, 2]
        r = 0.55 * (1.0 + 0.06 * h)
        ang = np.linspace(0, 2 * math.pi, 10, endpoint=False)
        sp = np.stack(
            [
                g[:, None, 0] + r[:, None] * np.cos(ang),
                0.45 * r[:, None] * np.sin(ang),
                np.broadcast_to(g[:, None, 2] + 0.03, (len(g), 10)),
            ],
            -1,
        )
        suv, sdep = view.camera.project(sp)
        self.shadow_ok = (h < 9.0) & (sdep.min(axis=1) > NEAR)
        self.shadow_px = np.round(np.nan_to_num(suv, nan=0.0) * _ONE).clip(-(2**26), 2**26).astype(np.int32)
        keys = [c for *_, c, _ in self._LIMBS]
        shades = [sh for *_, sh in self._LIMBS]
        self.ath_colors = {}
        for i, exp in self.exposure.items():
            lt = self.light * exp
            self.ath_colors[i] = [_scale(self.body_colors[c], lt * sh) for c, sh in zip(keys, shades)] + [
                _scale(self.body_colors["jacket"], lt),
                _scale(self.body_colors["helmet"], lt),
                _scale((235, 235, 235), lt),
                _scale(self.shadow, exp),
            ]

    def _draw_athlete(self, img, k: int, shot_i: int) -> None:
        colors = self.ath_colors[shot_i]
        L = self.L
        if self.shadow_ok[k]:
            cv2.fillConvexPoly(img, self.shadow_px[k], colors[L + 3], AA, SHIFT)
        px = self.px[k]
        pts = px.tolist()
        thick = self.ath_thick[k]
        la, lb = self.ath_la, self.ath_lb
        for i in self.ath_order[k]:
            if i < L:
                cv2.line(img, pts[la[i]], pts[lb[i]], colors[i], int(thick[i]), AA, SHIFT)
            elif i == L:
                quad = px[list(self._TORSO)]
                cv2.fillConvexPoly(img, quad, colors[L], AA, SHIFT)
                if self.front[k]:
                    cen = quad.mean(axis=0)
                    bib = (cen + 0.55 * (quad - cen)).astype(np.int32)
                    cv2.fillConvexPoly(img, bib, colors[L + 2], AA, SHIFT)
            else:
                cv2.circle(img, pts[P["head"]], int(self.head_r[k]), colors[L + 1], -1, AA, SHIFT)


def render_frames(view: JumpView) -> Iterator[np.ndarray]:
    """Frames (size, size, 3) uint8 BGR of a prepared jump, one at a time."""
    return Painter(view).frames()


def render_jump(spec: JumpSpec, size: int = 128, fps: float = DEFAULT_FPS) -> Iterator[np.ndarray]:
    """Frames (size, size, 3) uint8 BGR of ``spec``, one at a time (a generator: nothing is kept)."""
    return render_frames(view_jump(spec, size, fps))
