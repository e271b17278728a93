//! Ambient occlusion baked per vertex: how much of the sky each vertex
//! sees, estimated by marching a few rays through a coarse voxel copy of
//! the scene. It darkens armpits, the cloth under the arms, the neck under
//! the chin and the hood's folds; cheap enough to bake on every build, and
//! works for loaded meshes as well as generated ones.

use glam::{IVec3, Vec3};

use crate::mesh::{Material, Mesh};

/// Voxel edge, metres: fine enough for the gap between arm and torso.
const CELL: f32 = 0.012;
/// How far a ray looks for an occluder; folds further away do not darken.
const REACH: f32 = 0.14;
const DIRECTIONS: usize = 32;

struct Grid {
    origin: Vec3,
    dims: IVec3,
    cells: Vec<bool>,
}

impl Grid {
    fn index(&self, c: IVec3) -> Option<usize> {
        let inside = c.cmpge(IVec3::ZERO).all() && c.cmplt(self.dims).all();
        inside.then(|| (c.x + self.dims.x * (c.y + self.dims.y * c.z)) as usize)
    }

    fn cell(&self, p: Vec3) -> IVec3 {
        ((p - self.origin) / CELL).floor().as_ivec3()
    }

    fn occupied(&self, p: Vec3) -> bool {
        self.index(self.cell(p)).is_some_and(|i| self.cells[i])
    }

    fn mark(&mut self, p: Vec3) {
        if let Some(i) = self.index(self.cell(p)) {
            self.cells[i] = true;
        }
    }
}

/// Directions spread evenly over the sphere (a Fibonacci lattice), so the
/// bake is deterministic.
fn directions() -> Vec<Vec3> {
    let golden = std::f32::consts::PI * (3.0 - 5f32.sqrt());
    (0..DIRECTIONS)
        .map(|i| {
            let y = 1.0 - 2.0 * (i as f32 + 0.5) / DIRECTIONS as f32;
            let r = (1.0 - y * y).max(0.0).sqrt();
            let a = golden * i as f32;
            Vec3::new(r * a.cos(), y, r * a.sin())
        })
        .collect()
}

/// Fills `Vertex::ao` of every vertex but the floor shadow's. The floor
/// (y = 0) occludes too.
pub fn bake(mesh: &mut Mesh) {
    let is_shadow = |m: f32| m == Material::Shadow.id();
    let solid: Vec<[usize; 3]> = mesh
        .indices
        .chunks_exact(3)
        .map(|t| [t[0] as usize, t[1] as usize, t[2] as usize])
        .filter(|t| !is_shadow(mesh.vertices[t[0]].material))
        .collect();
    let pos = |i: usize| Vec3::from(mesh.vertices[i].position);
    let Some((lo, hi)) = solid.iter().flatten().map(|&i| pos(i)).fold(
        None,
        |acc: Option<(Vec3, Vec3)>, p| match acc {
            None => Some((p, p)),
            Some((lo, hi)) => Some((lo.min(p), hi.max(p))),
        },
    ) else {
        return;
    };
    let origin = lo - Vec3::splat(2.0 * CELL);
    let dims = (((hi - lo) / CELL).ceil().as_ivec3() + IVec3::splat(5)).min(IVec3::splat(1024));
    let mut grid = Grid {
        origin,
        dims,
        cells: vec![false; (dims.x * dims.y * dims.z) as usize],
    };
    // Surface voxels: sample each triangle densely enough to leave no holes.
    for t in &solid {
        let [a, b, c] = t.map(pos);
        let longest = (b - a).length().max((c - b).length()).max((a - c).length());
        let n = ((longest / (0.5 * CELL)).ceil() as usize).clamp(1, 256);
        for i in 0..=n {
            for j in 0..=n - i {
                let (u, v) = (i as f32 / n as f32, j as f32 / n as f32);
                grid.mark(a + (b - a) * u + (c - a) * v);
            }
        }
    }
    let dirs = directions();
    let step = 0.7 * CELL;
    let steps = (REACH / step) as usize;
    for v in &mut mesh.vertices {
        if is_shadow(v.material) {
            continue;
        }
        let n = Vec3::from(v.normal);
        let start = Vec3::from(v.position) + n * (2.0 * CELL);
        let (mut open, mut total) = (0.0f32, 0.0f32);
        for d in &dirs {
            let w = d.dot(n);
            // Grazing rays mostly find the vertex's own surface.
            if w < 0.25 {
                continue;
            }
            total += w;
            let hit = (1..=steps).any(|s| {
                let p = start + *d * (s as f32 * step);
                p.y < 0.0 || grid.occupied(p)
            });
            if !hit {
                open += w;
            }
        }
        v.ao = if total > 0.0 { open / total } else { 1.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{Body, BodyType, SizeChart};

    #[test]
    fn armpits_are_darker_than_the_chest() {
        let chart = SizeChart::builtin().unwrap_or_else(|e| panic!("{e}"));
        let m = chart
            .get(BodyType::Neutral, "M")
            .unwrap_or_else(|e| panic!("{e}"));
        let body = Body::new(&m, BodyType::Neutral);
        let mut mesh = body.mannequin();
        bake(&mut mesh);
        let h = body.height;
        let mean_ao = |keep: &dyn Fn(Vec3, Vec3) -> bool| {
            let picked: Vec<f32> = mesh
                .vertices
                .iter()
                .filter(|v| keep(Vec3::from(v.position), Vec3::from(v.normal)))
                .map(|v| v.ao)
                .collect();
            assert!(!picked.is_empty());
            picked.iter().sum::<f32>() / picked.len() as f32
        };
        // The torso's side facing the arm, just under the shoulder.
        let side = mean_ao(&|p, n| (p.y - 0.70 * h).abs() < 0.02 && n.x > 0.8 && p.x > 0.0);
        // The middle of the chest, facing forward.
        let chest = mean_ao(&|p, n| (p.y - 0.70 * h).abs() < 0.02 && n.z > 0.9);
        assert!(
            side + 0.15 < chest,
            "side under the arm {side:.2}, chest {chest:.2}"
        );
        assert!(chest > 0.8, "the open chest is dark: {chest:.2}");
    }
}
