//! Convex hulls of integer points with exact arithmetic (Quickhull, Barber et al. 1996;
//! Andrew's monotone chain in 2D).
//!
//! Mesh vertices lie on a half-voxel lattice, so in half-voxel units they are integers and
//! every orientation test is exact in i64: no epsilon, and the many coplanar points of a
//! voxel surface cannot break the hull. Scaling by the voxel spacing is linear, so the hull's
//! vertices in voxel units are the hull's vertices in mm. Written here rather than taken from
//! a crate because the crates we know use floating-point predicates.

/// Indices of points that include every extreme point of the convex hull of `points`
/// (possibly plus a few non-extreme boundary points, never an interior one).
///
/// Coordinates must stay below 2^17 in magnitude so that orientation tests fit in i64
/// (|normal·p| < 3·2^35·2^17). Degenerate inputs (fewer than 4 non-coplanar points) return
/// every index.
pub fn hull_vertices_3d(points: &[[i32; 3]]) -> Vec<usize> {
    let all = || (0..points.len()).collect();
    match Quickhull::new(points) {
        // A broken invariant would be a bug: fall back to every point, still exact.
        Some(mut hull) => match hull.run() {
            Some(()) => hull.vertices(),
            None => all(),
        },
        None => all(),
    }
}

/// Indices of the vertices of the convex hull of 2D integer points (collinear points dropped).
pub fn hull_vertices_2d(points: &[[i32; 2]]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_unstable_by_key(|&i| points[i]);
    order.dedup_by_key(|i| points[*i]);
    if order.len() < 3 {
        return order;
    }
    let turn = |o: usize, a: usize, b: usize| {
        let (o, a, b) = (
            points[o].map(i64::from),
            points[a].map(i64::from),
            points[b].map(i64::from),
        );
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<usize> = Vec::with_capacity(2 * order.len());
    for pass in 0..2 {
        let start = hull.len();
        let chain: Box<dyn Iterator<Item = &usize>> = if pass == 0 {
            Box::new(order.iter())
        } else {
            Box::new(order.iter().rev())
        };
        for &p in chain {
            while hull.len() >= start + 2 && turn(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop(); // the last point starts the other chain
    }
    hull
}

type P3 = [i64; 3];

fn sub(a: P3, b: P3) -> P3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: P3, b: P3) -> P3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: P3, b: P3) -> i64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// A triangle of the hull, counter-clockwise seen from outside.
struct Face {
    v: [u32; 3],
    /// `neighbour[i]` shares edge v[i] → v[i+1] (traversed the other way).
    neighbour: [u32; 3],
    normal: P3,
    offset: i64,
    alive: bool,
    /// Points strictly above this face, not yet on the hull.
    outside: Vec<u32>,
}

impl Face {
    /// Positive iff `p` is strictly above the face; proportional to its distance.
    fn height(&self, p: P3) -> i64 {
        dot(self.normal, p) - self.offset
    }
}

struct Quickhull<'a> {
    points: &'a [[i32; 3]],
    faces: Vec<Face>,
    /// Which iteration last marked a face visible.
    visible_mark: Vec<u32>,
}

impl<'a> Quickhull<'a> {
    fn point(&self, i: u32) -> P3 {
        self.points[i as usize].map(i64::from)
    }

    /// Builds the initial tetrahedron and assigns every point to a face it is above.
    fn new(points: &'a [[i32; 3]]) -> Option<Self> {
        let p = |i: usize| points[i].map(i64::from);
        let n = points.len();
        if n < 4 {
            return None;
        }
        let i0 = (0..n).min_by_key(|&i| points[i])?;
        let i1 = (0..n).max_by_key(|&i| {
            let d = sub(p(i), p(i0));
            dot(d, d)
        })?;
        let i2 = (0..n).max_by_key(|&i| {
            let c = cross(sub(p(i1), p(i0)), sub(p(i), p(i0)));
            dot(c, c)
        })?;
        let normal = cross(sub(p(i1), p(i0)), sub(p(i2), p(i0)));
        if normal == [0; 3] {
            return None;
        }
        let i3 = (0..n).max_by_key(|&i| dot(normal, sub(p(i), p(i0))).abs())?;
        if dot(normal, sub(p(i3), p(i0))) == 0 {
            return None;
        }
        let [a, b, c, d] = [i0, i1, i2, i3].map(|i| i as u32);
        let mut hull = Quickhull {
            points,
            faces: Vec::new(),
            visible_mark: Vec::new(),
        };
        // The tetrahedron's faces, each turned so that the opposite vertex lies below it.
        for (v, opposite) in [([a, b, c], d), ([a, b, d], c), ([b, c, d], a), ([c, a, d], b)] {
            let f = hull.add_face(v, [0; 3]);
            if hull.faces[f as usize].height(hull.point(opposite)) > 0 {
                hull.faces.pop();
                hull.visible_mark.pop();
                hull.add_face([v[0], v[2], v[1]], [0; 3]);
            }
        }
        hull.fix_tetra_neighbours();
        let all: Vec<u32> = (0..n as u32).filter(|&i| ![a, b, c, d].contains(&i)).collect();
        hull.assign(&all, &[0, 1, 2, 3]);
        Some(hull)
    }

    fn add_face(&mut self, v: [u32; 3], neighbour: [u32; 3]) -> u32 {
        let [a, b, c] = v.map(|i| self.point(i));
        let normal = cross(sub(b, a), sub(c, a));
        self.faces.push(Face {
            v,
            neighbour,
            normal,
            offset: dot(normal, a),
            alive: true,
            outside: Vec::new(),
        });
        self.visible_mark.push(0);
        (self.faces.len() - 1) as u32
    }

    /// Sets the tetrahedron's neighbours by matching reversed edges (4 faces: brute force).
    fn fix_tetra_neighbours(&mut self) {
        for f in 0..4 {
            for e in 0..3 {
                let (u, w) = (self.faces[f].v[e], self.faces[f].v[(e + 1) % 3]);
                for g in 0..4 {
                    let gv = self.faces[g].v;
                    if (0..3).any(|k| gv[k] == w && gv[(k + 1) % 3] == u) {
                        self.faces[f].neighbour[e] = g as u32;
                    }
                }
            }
        }
    }

    /// Gives each point to the first face of `faces` it is strictly above; drops the rest.
    fn assign(&mut self, points: &[u32], faces: &[u32]) {
        for &i in points {
            let p = self.point(i);
            if let Some(&f) = faces.iter().find(|&&f| self.faces[f as usize].height(p) > 0) {
                self.faces[f as usize].outside.push(i);
            }
        }
    }

    /// Adds the farthest outside point of some face until no face has outside points.
    /// `None` if the horizon is not a closed cycle (cannot happen with exact predicates).
    fn run(&mut self) -> Option<()> {
        let mut stack: Vec<u32> = (0..self.faces.len() as u32).collect();
        let mut iteration = 0u32;
        // Horizon-vertex → new face lookups, reset after each step.
        let mut starts_at: std::collections::HashMap<u32, u32> = Default::default();
        while let Some(f) = stack.pop() {
            let face = &self.faces[f as usize];
            if !face.alive || face.outside.is_empty() {
                continue;
            }
            iteration += 1;
            let apex_index = *face
                .outside
                .iter()
                .max_by_key(|&&i| face.height(self.point(i)))
                .expect("outside set is non-empty");
            let apex = self.point(apex_index);
            // Flood-fill the faces that see the apex (connected on a convex polytope).
            let mut visible = vec![f];
            self.visible_mark[f as usize] = iteration;
            let mut k = 0;
            while k < visible.len() {
                for nb in self.faces[visible[k] as usize].neighbour {
                    if self.visible_mark[nb as usize] != iteration && self.faces[nb as usize].height(apex) > 0 {
                        self.visible_mark[nb as usize] = iteration;
                        visible.push(nb);
                    }
                }
                k += 1;
            }
            // Horizon: edges of visible faces whose neighbour does not see the apex.
            let mut horizon = Vec::new();
            for &vf in &visible {
                let face = &self.faces[vf as usize];
                for e in 0..3 {
                    let nb = face.neighbour[e];
                    if self.visible_mark[nb as usize] != iteration {
                        horizon.push((face.v[e], face.v[(e + 1) % 3], nb));
                    }
                }
            }
            // One new face (a, b, apex) per horizon edge a → b.
            starts_at.clear();
            let mut new_faces = Vec::with_capacity(horizon.len());
            for &(a, b, nb) in &horizon {
                let g = self.add_face([a, b, apex_index], [nb, u32::MAX, u32::MAX]);
                let nbf = &mut self.faces[nb as usize];
                if let Some(e) = (0..3).find(|&e| nbf.v[e] == b && nbf.v[(e + 1) % 3] == a) {
                    nbf.neighbour[e] = g;
                }
                starts_at.insert(a, g);
                new_faces.push(g);
            }
            for &g in &new_faces {
                let b = self.faces[g as usize].v[1];
                // Edge b → apex borders the new face (b, c, apex), across its edge apex → b.
                let next = *starts_at.get(&b)?;
                self.faces[g as usize].neighbour[1] = next;
                self.faces[next as usize].neighbour[2] = g;
            }
            let mut orphans = Vec::new();
            for &vf in &visible {
                let face = &mut self.faces[vf as usize];
                face.alive = false;
                orphans.append(&mut face.outside);
            }
            orphans.retain(|&i| i != apex_index);
            self.assign(&orphans, &new_faces);
            stack.extend(
                new_faces
                    .iter()
                    .filter(|&&g| !self.faces[g as usize].outside.is_empty()),
            );
        }
        Some(())
    }

    fn vertices(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .faces
            .iter()
            .filter(|f| f.alive)
            .flat_map(|f| f.v.map(|i| i as usize))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}
