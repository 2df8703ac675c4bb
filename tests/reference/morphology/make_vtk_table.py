#!/usr/bin/env python3
"""Derives npcql's marching-cubes triangle table from VTK's own output.

For each of the 256 configurations of a 2×2×2 cube (bit i = corner i of npcql's
`marching_cubes::CORNERS` is tumour), runs `vtkMarchingCubes` at iso-value 0.5 on a 2×2×2
image holding exactly that cube (no padding, so only that one cube is triangulated), maps
every output point back to the cube edge whose midpoint it is (npcql's `EDGE_MIDPOINTS`), and
keeps VTK's triangles in VTK's order, with one global winding flip so that every triangle's
normal (b − a) × (c − a) points out of the tumour. Writes the 256-entry table as
`udfs/src/morphology/vtk_triangle_table.rs`.

Then checks, and stops on any failure:
- the table against VTK on whole masks: for random masks (speckle, blobs, diagonal chains)
  the triangles VTK makes on the padded mask are exactly the table's triangles cube by cube
  (as oriented vertex cycles), and the mesh is closed and consistently oriented;
- the ambiguity rule: on every ambiguous face (tumour on one diagonal only) of every
  configuration, the triangles cut the two tumour corners off separately;
- the 48 symmetries of the cube: where VTK triangulates a transformed configuration
  differently from the transformed triangles, the area and volume are still the same;
- that CORNERS and EDGE_MIDPOINTS below are those of marching_cubes.rs.

Run: pip install vtk numpy; python3 tests/reference/morphology/make_vtk_table.py
"""
import itertools
import os
import sys

import numpy as np
import vtk
from vtk.util import numpy_support

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(REPO, "udfs", "src", "morphology", "vtk_triangle_table.rs")

# npcql's numbering (udfs/src/morphology/marching_cubes.rs), (x, y, z).
CORNERS = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]
EDGES = [(0, 1), (1, 2), (3, 2), (0, 3), (4, 5), (5, 6), (7, 6), (4, 7), (0, 4), (1, 5), (2, 6), (3, 7)]
EDGE_MIDPOINTS = [tuple((a + b) / 2 for a, b in zip(CORNERS[i], CORNERS[j])) for i, j in EDGES]


def marching_cubes(volume):
    """vtkMarchingCubes at 0.5 on a uint8 array a[x, y, z] (unit spacing, origin 0): points
    (N×3 float) and triangles (M×3 point ids), as VTK outputs them."""
    image = vtk.vtkImageData()
    image.SetDimensions(*volume.shape)
    image.SetSpacing(1.0, 1.0, 1.0)
    image.SetOrigin(0.0, 0.0, 0.0)
    flat = np.ascontiguousarray(volume.ravel(order="F"))  # x fastest, as VTK stores points
    image.GetPointData().SetScalars(
        numpy_support.numpy_to_vtk(flat, deep=True, array_type=vtk.VTK_UNSIGNED_CHAR))
    mc = vtk.vtkMarchingCubes()
    mc.SetInputData(image)
    mc.SetValue(0, 0.5)
    mc.ComputeNormalsOff()
    mc.ComputeGradientsOff()
    mc.ComputeScalarsOff()
    mc.Update()
    out = mc.GetOutput()
    if out.GetNumberOfPoints() == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=int)
    points = numpy_support.vtk_to_numpy(out.GetPoints().GetData()).astype(float)
    assert out.GetNumberOfStrips() == 0 and out.GetNumberOfLines() == 0
    cells = numpy_support.vtk_to_numpy(out.GetPolys().GetConnectivityArray()).astype(int)
    offsets = numpy_support.vtk_to_numpy(out.GetPolys().GetOffsetsArray()).astype(int)
    assert (np.diff(offsets) == 3).all(), "vtkMarchingCubes makes triangles only"
    return points, cells.reshape(-1, 3)


def edge_of(point):
    for e, m in enumerate(EDGE_MIDPOINTS):
        if np.allclose(point, m, atol=1e-6):
            return e
    raise AssertionError(f"VTK point {point} is not an edge midpoint")


def vtk_cube(config):
    """VTK's triangles of one configuration, as (edge, edge, edge) in VTK's order."""
    cube = np.zeros((2, 2, 2), dtype=np.uint8)
    for bit, (x, y, z) in enumerate(CORNERS):
        if config >> bit & 1:
            cube[x, y, z] = 1
    points, tris = marching_cubes(cube)
    return [tuple(edge_of(points[i]) for i in t) for t in tris]


def outward(config, tri):
    """+1 if the normal (b−a)×(c−a) of an edge-index triangle points out of the tumour
    (from the tumour corner to the background corner of its edges), −1 if inward."""
    a, b, c = (np.array(EDGE_MIDPOINTS[e]) for e in tri)
    n = np.cross(b - a, c - a)
    s = 0.0
    for e in tri:
        i, j = EDGES[e]
        inside, outside = (i, j) if config >> i & 1 else (j, i)
        assert config >> inside & 1 and not config >> outside & 1
        s += np.dot(n, np.subtract(CORNERS[outside], CORNERS[inside]))
    assert abs(s) > 1e-9
    return 1 if s > 0 else -1


def derive_table():
    raw = [vtk_cube(c) for c in range(256)]
    signs = {outward(c, t) for c in range(256) for t in raw[c]}
    assert len(signs) == 1, "VTK's winding is consistent across all configurations"
    flip = signs.pop() < 0
    table = [[(a, c, b) if flip else (a, b, c) for a, b, c in tris] for tris in raw]
    return table, flip


def check_symmetry(table):
    """The 48 symmetries of the cube (axis permutations × flips, spacing permuted with the
    axes) applied to each configuration: how many (configuration, symmetry) pairs VTK
    triangulates differently as triangle sets, and asserts that even so each cube's area and
    signed volume (about the cube centre) are the same, for an anisotropic spacing."""
    corner_index = {c: i for i, c in enumerate(CORNERS)}
    spacing = np.array([0.7, 1.3, 2.9])
    mids = np.array(EDGE_MIDPOINTS) - 0.5

    def measures(tris, s):
        area = volume = 0.0
        for t in tris:
            a, b, c = (mids[e] * s for e in t)
            area += 0.5 * np.linalg.norm(np.cross(b - a, c - a))
            volume += np.dot(a, np.cross(b, c)) / 6
        return area, volume

    differing = 0
    for perm in itertools.permutations(range(3)):
        for flips in itertools.product((0, 1), repeat=3):
            def move(p):
                q = [p[perm[a]] for a in range(3)]
                return tuple(1 - q[a] if flips[a] else q[a] for a in range(3))
            cmap = [corner_index[move(c)] for c in CORNERS]
            emap = [EDGES.index(e) if e in EDGES else EDGES.index(e[::-1])
                    for e in ((cmap[i], cmap[j]) for i, j in EDGES)]
            odd = (np.linalg.det(np.eye(3)[list(perm)]) * (-1) ** sum(flips)) < 0
            for c in range(256):
                g = sum(1 << cmap[b] for b in range(8) if c >> b & 1)
                moved = {canon(tuple(emap[e] for e in (t[::-1] if odd else t))) for t in table[c]}
                if moved != {canon(t) for t in table[g]}:
                    differing += 1
                a1, v1 = measures(table[c], spacing)
                a2, v2 = measures(table[g], spacing[list(perm)])
                assert abs(a1 - a2) < 1e-12 and abs(v1 - v2) < 1e-12, (c, perm, flips)
    return differing


def check_face_rule(table):
    """On every ambiguous face (tumour on one diagonal only) VTK's triangles separate the two
    tumour corners (the surface cuts off each one; the background corners stay joined), for
    every configuration that has such a face: the choice depends on the face alone."""
    faces = 0
    for c in range(256):
        for axis in range(3):
            for side in (0, 1):
                face = [i for i, p in enumerate(CORNERS) if p[axis] == side]
                tumour = [i for i in face if c >> i & 1]
                if len(tumour) != 2 or (tumour[0], tumour[1]) in EDGES or (tumour[1], tumour[0]) in EDGES:
                    continue
                face_edges = [k for k, (i, j) in enumerate(EDGES) if i in face and j in face]
                segments = {frozenset((t[p], t[(p + 1) % 3])) for t in table[c] for p in range(3)
                            if t[p] in face_edges and t[(p + 1) % 3] in face_edges}
                for corner in tumour:
                    assert frozenset(k for k in face_edges if corner in EDGES[k]) in segments, (c, axis, side)
                faces += 1
    return faces


def canon(t):
    """An oriented triangle, up to rotation of its vertices."""
    i = t.index(min(t))
    return t[i:] + t[:i]


def table_mesh(volume, table):
    """Triangles of a uint8 array from the table: vertices as doubled integer coordinates."""
    tris = []
    nx, ny, nz = volume.shape
    for x in range(nx - 1):
        for y in range(ny - 1):
            for z in range(nz - 1):
                config = sum(1 << b for b, (dx, dy, dz) in enumerate(CORNERS)
                             if volume[x + dx, y + dy, z + dz])
                for t in table[config]:
                    tris.append(tuple(tuple(int(2 * (o + m)) for o, m in zip((x, y, z), EDGE_MIDPOINTS[e]))
                                      for e in t))
    return tris


def random_masks(rng):
    for n in range(300):
        dims = tuple(rng.integers(2, 9, size=3))
        kind = n % 3
        if kind == 0:  # speckle
            m = rng.random(dims) < rng.uniform(0.2, 0.6)
        elif kind == 1:  # blob: smoothed noise
            noise = rng.standard_normal(dims)
            for axis in range(3):
                noise = (noise + np.roll(noise, 1, axis) + np.roll(noise, -1, axis)) / 3
            m = noise > rng.uniform(-0.2, 0.2)
        else:  # diagonal chains
            m = np.zeros(dims, dtype=bool)
            for _ in range(3):
                p = [rng.integers(0, d) for d in dims]
                step = rng.choice([-1, 1], size=3) * rng.integers(0, 2, size=3)
                for _ in range(max(dims)):
                    if all(0 <= p[a] < dims[a] for a in range(3)):
                        m[tuple(p)] = True
                    p = [p[a] + step[a] for a in range(3)]
        yield np.pad(m.astype(np.uint8), 1)


def check_against_vtk(table, flip):
    rng = np.random.default_rng(9)
    checked = 0
    for volume in random_masks(rng):
        points, tris = marching_cubes(volume)
        vtk_tris = sorted(canon(tuple(tuple(int(round(2 * c)) for c in points[i]) for i in t)) for t in tris)
        ours = table_mesh(volume, table)
        # The table has VTK's winding, reversed if `flip`.
        as_vtk = sorted(canon(t[::-1] if flip else t) for t in ours)
        assert vtk_tris == as_vtk, "table differs from VTK on a whole mask"
        directed = {}
        for t in ours:
            for i in range(3):
                key = (t[i], t[(i + 1) % 3])
                directed[key] = directed.get(key, 0) + 1
        assert all(v == 1 for v in directed.values()), "a directed edge twice"
        assert all((b, a) in directed for a, b in directed), "an open edge"
        checked += 1
    return checked


def write_rust(table, flip):
    lines = [
        "// @generated by tests/reference/morphology/make_vtk_table.py from VTK "
        + vtk.vtkVersion.GetVTKVersion() + " (vtkMarchingCubes); do not edit.",
        "//",
        "// For each cube configuration (bit i = corner i of `CORNERS` is tumour) the triangles",
        "// `vtkMarchingCubes` makes at iso-value 0.5 on a 2×2×2 image holding only that cube, as",
        "// indices into `EDGE_MIDPOINTS`, three per triangle, in VTK's order"
        + (" with the winding reversed" if flip else "") + " so that",
        "// (b − a) × (c − a) points out of the tumour.",
        "",
        "/// VTK's marching-cubes triangles of the 256 cube configurations (edge indices).",
        "#[rustfmt::skip]",
        "pub const TRIANGLES: [&[u8]; 256] = [",
    ]
    for c, tris in enumerate(table):
        flat = ", ".join(str(e) for t in tris for e in t)
        lines.append(f"    /* {c:3} {c:08b} */ &[{flat}],")
    lines.append("];")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")


def check_numbering():
    """CORNERS and EDGE_MIDPOINTS here are those of marching_cubes.rs."""
    import re
    with open(os.path.join(REPO, "udfs", "src", "morphology", "marching_cubes.rs")) as f:
        src = f.read()

    def array(name):
        body = src[src.index(f"pub const {name}"):]
        body = body[body.index("= [") + 3:]
        body = body[:body.index("];")]
        return [tuple(float(v) for v in row.split(",")) for row in re.findall(r"\[([^\[\]]+)\]", body)]
    assert array("CORNERS") == [tuple(map(float, c)) for c in CORNERS]
    assert array("EDGE_MIDPOINTS") == EDGE_MIDPOINTS


def main():
    check_numbering()
    table, flip = derive_table()
    print(f"VTK {vtk.vtkVersion.GetVTKVersion()}: {sum(map(len, table))} triangles over 256 "
          f"configurations; VTK winding {'inward (flipped)' if flip else 'outward'}", file=sys.stderr)
    n = check_against_vtk(table, flip)
    print(f"table == VTK on {n} random whole masks; closed and consistently oriented", file=sys.stderr)
    print(f"ambiguous faces: {check_face_rule(table)}, tumour corners separated on every one", file=sys.stderr)
    print(f"48 cube symmetries × 256 configurations: {check_symmetry(table)} pairs triangulated "
          f"differently, all with the same area and volume", file=sys.stderr)
    write_rust(table, flip)
    print(f"wrote {os.path.relpath(OUT, REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
