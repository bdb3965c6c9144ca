"""Strokes of any outline glyph from its skeleton.

The filled glyph is thinned to a one-pixel skeleton (scikit-image), the skeleton becomes a graph
(end points and junctions as nodes, pixel chains as edges), short spurs that thinning leaves at
blunt stroke ends are pruned, and at each junction the pairs of edges that continue each other
most smoothly are joined into one stroke. Strokes are then given their conventional direction
(left to right, or top to bottom for steep ones), and ordered by the conventional rules: a
horizontal before a vertical that crosses it, left before right where they do not overlap
sideways, top before bottom (stroke_order).
"""

from __future__ import annotations

import cv2
import numpy as np

from stroke_planner.stroke_order import order_strokes, orient

# A junction pairs two edges whose directions continue each other within this angle.
MAX_CONTINUATION_DEG = 60.0
# A spur shorter than this times the junction's distance-to-edge is a thinning artefact.
SPUR_FACTOR = 2.5
# A short free end branch leaving a downward run up-left is its hook (fraction of the box).
HOOK_LENGTH = 0.2

_OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def clean_mask(mask: np.ndarray) -> np.ndarray:
    """Fill pinholes and drop specks that would grow false loops and branches."""
    mask = mask.astype(np.uint8)
    area_floor = max(4, mask.shape[0] // 32)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(1 - mask, connectivity=4)
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        touches_border = x == 0 or y == 0 or x + w == mask.shape[1] or y + h == mask.shape[0]
        if area < area_floor and not touches_border:
            mask[labels == label] = 1
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    for label in range(1, count):
        if stats[label, cv2.CC_STAT_AREA] < area_floor:
            mask[labels == label] = 0
    return mask.astype(bool)


class _Graph:
    """Skeleton pixels as nodes (end points, junction clusters) and edges (pixel chains)."""

    def __init__(self, skeleton: np.ndarray) -> None:
        self.skeleton = skeleton
        padded = np.pad(skeleton, 1).astype(np.uint8)
        degree = cv2.filter2D(padded, -1, np.ones((3, 3), np.float32), borderType=0)[1:-1, 1:-1]
        degree = (degree.astype(int) - 1) * skeleton
        self.pixels = {tuple(p) for p in np.argwhere(skeleton)}
        node_mask = skeleton & (degree != 2)
        count, labels = cv2.connectedComponents(node_mask.astype(np.uint8), connectivity=8)
        self.node_of: dict[tuple[int, int], int] = {}
        self.node_pixels: dict[int, list[tuple[int, int]]] = {k: [] for k in range(1, count)}
        for r, c in np.argwhere(node_mask):
            self.node_of[(r, c)] = labels[r, c]
            self.node_pixels[labels[r, c]].append((r, c))
        self.node_centre = {
            k: np.mean(np.array(v, float), axis=0) for k, v in self.node_pixels.items() if v
        }
        # edges: (node_a, node_b, (M, 2) row/col pixel chain including both node centres)
        self.edges: list[tuple[int, int, np.ndarray]] = []
        self._trace()

    def _neighbours(self, p: tuple[int, int]) -> list[tuple[int, int]]:
        return [
            (p[0] + dr, p[1] + dc) for dr, dc in _OFFSETS if (p[0] + dr, p[1] + dc) in self.pixels
        ]

    def _trace(self) -> None:
        visited: set[tuple[int, int]] = set()
        for node, members in self.node_pixels.items():
            for start in members:
                for first in self._neighbours(start):
                    if self.node_of.get(first) == node or first in visited:
                        continue
                    chain = [start, first]
                    previous, current = start, first
                    while current not in self.node_of:
                        visited.add(current)
                        following = [
                            q
                            for q in self._neighbours(current)
                            if q != previous
                            and q not in visited
                            and (q != start or len(chain) > 3)
                        ]
                        if not following:
                            # Came back to a visited chain (tiny triangle); stop here.
                            break
                        # Prefer a node pixel, then the 4-neighbour, so chains stay thin.
                        following.sort(
                            key=lambda q: (
                                q not in self.node_of,
                                abs(q[0] - current[0]) + abs(q[1] - current[1]),
                            )
                        )
                        previous, current = current, following[0]
                        chain.append(current)
                    end = self.node_of.get(current)
                    if end is None:
                        continue
                    points = np.array(chain[1:-1], float).reshape(-1, 2)
                    path = np.vstack([self.node_centre[node], points, self.node_centre[end]])
                    self.edges.append((node, end, path))
        # Closed loops with no node (an O): trace each from any pixel.
        for pixel in sorted(self.pixels - visited - set(self.node_of)):
            if pixel in visited:
                continue
            chain = [pixel]
            visited.add(pixel)
            current = pixel
            while True:
                following = [q for q in self._neighbours(current) if q not in visited]
                if not following:
                    break
                following.sort(key=lambda q: abs(q[0] - current[0]) + abs(q[1] - current[1]))
                current = following[0]
                visited.add(current)
                chain.append(current)
            if len(chain) >= 8:
                self.edges.append((-1, -1, np.array(chain + [pixel], float)))


def _length(path: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum()) if len(path) > 1 else 0.0


def _direction_from_start(path: np.ndarray, reach: float) -> np.ndarray:
    """Unit vector from path[0] towards the point `reach` along the path."""
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    k = min(int(np.searchsorted(arc, reach)), len(path) - 1)
    vector = path[k] - path[0]
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 1e-9 else np.zeros(2)


def _degrees(edges: list[tuple[int, int, np.ndarray]]) -> dict[int, int]:
    degree: dict[int, int] = {}
    for a, b, _ in edges:
        degree[a] = degree.get(a, 0) + 1
        degree[b] = degree.get(b, 0) + 1
    return degree


def _radius_at(distance: np.ndarray, point: np.ndarray) -> float:
    r, c = np.clip(np.round(point).astype(int), 0, np.array(distance.shape) - 1)
    return max(float(distance[r, c]), 1.0)


def _contract_short_links(
    edges: list[tuple[int, int, np.ndarray]], centre: dict, distance: np.ndarray
) -> list[tuple[int, int, np.ndarray]]:
    """Merge junctions joined by an edge shorter than the ink is wide there: thinning splits
    one crossing of two strokes into two three-way junctions a stroke width apart."""
    degree = _degrees(edges)
    parent = {node: node for node in centre}

    def root(node: int) -> int:
        while parent[node] != node:
            node = parent[node]
        return node

    kept = []
    for a, b, path in edges:
        if a >= 0 and a != b and degree[a] >= 3 and degree[b] >= 3:
            reach = 2.0 * max(_radius_at(distance, centre[a]), _radius_at(distance, centre[b]))
            if _length(path) < reach:
                parent[root(a)] = root(b)
                continue
        kept.append((a, b, path))
    members: dict[int, list[int]] = {}
    for node in centre:
        members.setdefault(root(node), []).append(node)
    for top, group in members.items():
        centre[top] = np.mean([centre[n] for n in group], axis=0)
    contracted = []
    for a, b, path in kept:
        if a >= 0:
            a, b = root(a), root(b)
            path = np.vstack([centre[a], path[1:-1], centre[b]])
        contracted.append((a, b, path))
    return contracted


def _prune_spurs(
    edges: list[tuple[int, int, np.ndarray]], centre: dict, distance: np.ndarray
) -> list[tuple[int, int, np.ndarray]]:
    """Drop end branches shorter than SPUR_FACTOR times the ink's half-width at their junction
    (thinning grows them at blunt ends and shoulders), until none is left."""
    while True:
        degree = _degrees(edges)
        kept, pruned = [], False
        for a, b, path in edges:
            junction = b if degree.get(a) == 1 else a if degree.get(b) == 1 else None
            if (
                junction is not None
                and a != b
                and degree.get(junction, 0) >= 3
                and _length(path) < SPUR_FACTOR * _radius_at(distance, centre[junction])
            ):
                degree[junction] -= 1
                degree[a if junction == b else b] -= 1
                pruned = True
                continue
            kept.append((a, b, path))
        edges = kept
        if not pruned:
            return edges


def _writable_turn(into: np.ndarray, out: np.ndarray, enclosed: bool) -> bool:
    """Whether a pen turns from direction `into` to `out` within one stroke (row, col vectors,
    rows down): after a rightward run it may go down (横折, 横撇); after a downward run it may
    go right or up-right (竖折, 竖提, 竖弯钩) — except at the bottom-left of an enclosure
    (`enclosed`: both runs end on other strokes, as in 口), whose bottom is its own stroke."""
    rightward = into[1] > abs(into[0])
    downward = into[0] > abs(into[1])
    if rightward:
        return out[0] > 0.5 * abs(out[1])
    if downward:
        return not enclosed and out[1] > 0.0 and out[1] > -0.5 * out[0]
    return False


def _is_hook(into: np.ndarray, out: np.ndarray) -> bool:
    """A downward run flicked up-left or left at its end (竖钩, 横折钩, 弯钩)."""
    return into[0] > 0.5 * abs(into[1]) and out[1] < 0.0 and out[0] < 0.5 * abs(out[1])


def _join_at_junctions(
    edges: list[tuple[int, int, np.ndarray]], distance: np.ndarray, node_centre: dict
) -> list[np.ndarray]:
    """Chains of edges: at each junction the smoothest continuations are joined; a node with
    two edges always continues; two edges left over at a junction join where the turn
    between them is one a pen makes within a stroke."""
    ends: dict[int, list[tuple[int, int]]] = {}  # node -> [(edge index, 0 start | 1 end)]
    for index, (a, b, _) in enumerate(edges):
        if a >= 0:
            ends.setdefault(a, []).append((index, 0))
            ends.setdefault(b, []).append((index, 1))
    partner: dict[tuple[int, int], tuple[int, int]] = {}
    degree = _degrees(edges)

    def join(first: tuple[int, int], second: tuple[int, int]) -> None:
        partner[first] = second
        partner[second] = first

    for node, incident in ends.items():
        if len(incident) < 2:
            continue
        reach = max(3.0 * _radius_at(distance, node_centre[node]), 4.0)
        directions = []
        for index, side in incident:
            path = edges[index][2]
            directions.append(_direction_from_start(path if side == 0 else path[::-1], reach))
        pairs = []
        for i in range(len(incident)):
            for j in range(i + 1, len(incident)):
                if incident[i][0] == incident[j][0]:
                    continue  # a loop edge returning to its own junction
                cosine = float(np.clip(-directions[i] @ directions[j], -1.0, 1.0))
                pairs.append((np.degrees(np.arccos(cosine)), i, j))
        for deviation, i, j in sorted(pairs):
            if deviation > MAX_CONTINUATION_DEG:
                break
            if incident[i] not in partner and incident[j] not in partner:
                join(incident[i], incident[j])
        left = [k for k in range(len(incident)) if incident[k] not in partner]
        if len(left) == 2 and incident[left[0]][0] != incident[left[1]][0]:
            i, j = left
            far_ends = [edges[incident[k][0]][1 - incident[k][1]] for k in left]
            enclosed = all(degree.get(node, 0) >= 2 for node in far_ends)
            hook_limit = HOOK_LENGTH * distance.shape[0]
            for into, out, out_end, out_edge in (
                (i, j, far_ends[1], incident[j][0]),
                (j, i, far_ends[0], incident[i][0]),
            ):
                hook = (
                    degree.get(out_end, 0) == 1
                    and _length(edges[out_edge][2]) < hook_limit
                    and _is_hook(-directions[into], directions[out])
                )
                if hook or _writable_turn(-directions[into], directions[out], enclosed):
                    join(incident[i], incident[j])
                    break
    used = [False] * len(edges)

    def follow(index: int, side: int) -> np.ndarray:
        """Walk from edge `index` entered at its `side` end through joined junctions."""
        pieces = []
        while not used[index]:
            used[index] = True
            path = edges[index][2]
            pieces.append(path if side == 0 else path[::-1])
            exit_end = (index, 1 - side)
            if exit_end not in partner:
                break
            index, side = partner[exit_end]
        return np.vstack([pieces[0]] + [p[1:] for p in pieces[1:]])

    chains = []
    for index in range(len(edges)):
        for side in (0, 1):
            if not used[index] and (index, side) not in partner:
                chains.append(follow(index, side))
    for index in range(len(edges)):
        if not used[index]:
            chains.append(follow(index, 0))  # a cycle of joined edges
    return chains


def skeleton_strokes(mask: np.ndarray) -> list[np.ndarray]:
    """Ordered, directed stroke centrelines of a filled glyph mask.

    Args:
        mask: bool (n, n) glyph mask of the character box, row 0 at the top.

    Returns:
        (M, 2) (col, row) pixel-centre polylines in writing order and direction.
    """
    mask = clean_mask(mask)
    distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    # Here, not at the top: scikit-image brings SciPy, half a second of CPU to import, and only
    # glyphs without stroke-order data come this way.
    from skimage.morphology import skeletonize

    skeleton = skeletonize(mask)
    graph = _Graph(skeleton)
    centre = dict(graph.node_centre)
    edges = _contract_short_links(graph.edges, centre, distance)
    edges = _prune_spurs(edges, centre, distance)
    chains = _join_at_junctions(edges, distance, centre)
    # Drop what is left of spurs and specks: strokes no longer than the ink is wide there.
    kept = []
    for chain in chains:
        r, c = np.round(chain[len(chain) // 2]).astype(int)
        if _length(chain) >= max(1.2 * distance[r, c], 2.0):
            kept.append(orient(chain))
    kept += _dots(mask, distance, kept)
    return [chain[:, ::-1].copy() for chain in order_strokes(kept, mask.shape[0])]


def _dots(mask: np.ndarray, distance: np.ndarray, strokes: list[np.ndarray]) -> list[np.ndarray]:
    """A blob of ink no stroke passes through (the dot of an i) becomes a short dab at its
    thickest point, written top-left to bottom-right like a 点."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    inked = set()
    for chain in strokes:
        rows, cols = np.clip(np.round(chain).astype(int), 0, mask.shape[0] - 1).T
        inked.update(labels[rows, cols].tolist())
    dabs = []
    for label in range(1, count):
        if label in inked:
            continue
        depth = np.where(labels == label, distance, 0.0)
        centre = np.array(np.unravel_index(np.argmax(depth), depth.shape), float)
        dabs.append(np.stack([centre - 0.5, centre + 0.5]))
    return dabs
