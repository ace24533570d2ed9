"""Where a figure's labels go: each at the first of its candidate places that no edge, node or
label already placed comes near, checked by geometry; a label with no such place gets none
(the figure lists it instead).

A label is a Box (a rectangle turned to lie along its edge), an edge a Segment with the
half-width it may ever be drawn at (its widest line and its gradient's line beside it), a node
a Circle. Every test keeps GAP pixels between two things.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

GAP = 2.0


@dataclass(frozen=True)
class Box:
    """A rectangle centred at (x, y), `half_length` along the direction `angle` (radians) and
    `half_height` across it."""

    x: float
    y: float
    angle: float
    half_length: float
    half_height: float

    def local(self, px: float, py: float) -> tuple[float, float]:
        """(px, py) in the box's own frame: along its length, across it."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        dx, dy = px - self.x, py - self.y
        return dx * c + dy * s, -dx * s + dy * c

    def corners(self) -> list[tuple[float, float]]:
        c, s = math.cos(self.angle), math.sin(self.angle)
        return [(self.x + a * c - b * s, self.y + a * s + b * c)
                for a, b in ((-self.half_length, -self.half_height), (self.half_length, -self.half_height),
                             (self.half_length, self.half_height), (-self.half_length, self.half_height))]


@dataclass(frozen=True)
class Segment:
    x0: float
    y0: float
    x1: float
    y1: float
    half_width: float


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    r: float


def place(candidates: Sequence[Sequence[Box]], own: Sequence[int | None], edges: Sequence[Segment],
          circles: Sequence[Circle], taken: Sequence[Box] = ()) -> list[Box | None]:
    """For each label in order, the first of its candidate boxes clear of every edge but its own
    (own[i], an index into edges, or None), every circle, every box in `taken` and every label
    placed before it; None where no candidate is clear."""
    placed: list[Box] = list(taken)
    chosen: list[Box | None] = []
    ends = np.array([[edge.x0, edge.y0, edge.x1, edge.y1, edge.half_width] for edge in edges]).reshape(-1, 5)
    for boxes, mine in zip(candidates, own):
        clear = next((box for box in boxes if _clear(box, mine, edges, ends, circles, placed)), None)
        if clear is not None:
            placed.append(clear)
        chosen.append(clear)
    return chosen


def _clear(box: Box, mine: int | None, edges, ends: np.ndarray, circles, placed) -> bool:
    """Whether the box keeps GAP from every edge but `mine`, every circle and every placed box.
    Only the edges that pass within the box's circumscribed circle (plus their reach) are
    measured exactly; ends : shape (edges, 5), each edge's x0, y0, x1, y1, half_width."""
    reach = math.hypot(box.half_length, box.half_height) + GAP
    near = np.flatnonzero(_centre_distances(box, ends) <= ends[:, 4] + reach)
    return (all(_distance_to_segment(box, edges[i]) > edges[i].half_width + GAP for i in near if i != mine)
            and all(_distance_to_point(box, circle.x, circle.y) > circle.r + GAP for circle in circles)
            and not any(_overlap(box, other) for other in placed))


def _centre_distances(box: Box, ends: np.ndarray) -> np.ndarray:
    """The distance from the box's centre to each edge, shape (edges,)."""
    start, step = ends[:, 0:2], ends[:, 2:4] - ends[:, 0:2]
    offset = np.array([box.x, box.y]) - start
    lengths = np.einsum("ij,ij->i", step, step)
    t = np.clip(np.einsum("ij,ij->i", offset, step) / np.where(lengths > 0, lengths, 1.0), 0.0, 1.0)
    return np.hypot(*(offset - t[:, None] * step).T)


def _distance_to_point(box: Box, px: float, py: float) -> float:
    u, v = box.local(px, py)
    return math.hypot(max(abs(u) - box.half_length, 0.0), max(abs(v) - box.half_height, 0.0))


def _distance_to_segment(box: Box, edge: Segment) -> float:
    """0 where the segment enters the box, else the least distance between them (both convex:
    an end of the one or a corner of the other is nearest)."""
    p, q = box.local(edge.x0, edge.y0), box.local(edge.x1, edge.y1)
    if _enters(p, q, box.half_length, box.half_height):
        return 0.0
    ends = min(_distance_to_point(box, edge.x0, edge.y0), _distance_to_point(box, edge.x1, edge.y1))
    return min(ends, *(_point_to_segment(corner, (edge.x0, edge.y0), (edge.x1, edge.y1)) for corner in box.corners()))


def _enters(p, q, a: float, b: float) -> bool:
    """Whether the segment p-q meets the rectangle [-a, a] x [-b, b] (Liang-Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for step, room in ((-dx, p[0] + a), (dx, a - p[0]), (-dy, p[1] + b), (dy, b - p[1])):
        if step == 0:
            if room < 0:
                return False
        elif step < 0:
            t0 = max(t0, room / step)
        else:
            t1 = min(t1, room / step)
    return t0 <= t1


def _point_to_segment(point, start, end) -> float:
    (px, py), (x0, y0), (x1, y1) = point, start, end
    dx, dy = x1 - x0, y1 - y0
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - x0 - t * dx, py - y0 - t * dy)


def _overlap(one: Box, other: Box) -> bool:
    """Whether two boxes come within GAP of each other: no axis of either separates them."""
    for box in (one, other):
        c, s = math.cos(box.angle), math.sin(box.angle)
        for ax, ay in ((c, s), (-s, c)):
            first = [x * ax + y * ay for x, y in one.corners()]
            second = [x * ax + y * ay for x, y in other.corners()]
            if min(first) > max(second) + GAP or min(second) > max(first) + GAP:
                return False
    return True
