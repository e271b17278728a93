//! Triangle meshes and the grid helper every body part is built from.

use bytemuck::{Pod, Zeroable};
use glam::Vec3;

/// What a vertex is made of; the shader picks its colour from this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Material {
    Skin = 0,
    /// The garment's front panel, textured with the product photo.
    GarmentFront = 1,
    /// The rest of the garment, in the fill colour.
    GarmentFill = 2,
    /// The soft shadow ellipse on the floor.
    Shadow = 3,
    /// The garment's back panel: the back photo, else the fill colour.
    GarmentBack = 4,
    /// Collars, cuffs, hood lining: the fill colour a shade darker, so
    /// that they read as separate pieces of cloth.
    Trim = 5,
}

impl Material {
    pub fn id(self) -> f32 {
        self as u32 as f32
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Vertex {
    pub position: [f32; 3],
    pub normal: [f32; 3],
    /// Front and back panels: `[x, v]` with `x` in -1..1 across the panel
    /// (+1 at the body's right, +x) and `v` 0..1 from the top down; the
    /// shader mirrors `x` for the back. Elsewhere free for the part's use.
    pub uv: [f32; 2],
    pub material: f32,
    /// Ambient occlusion, 1 = open sky; baked by `ao::bake`.
    pub ao: f32,
}

#[derive(Clone, Debug, Default)]
pub struct Mesh {
    pub vertices: Vec<Vertex>,
    pub indices: Vec<u32>,
}

impl Mesh {
    pub fn append(&mut self, other: &Mesh) {
        let base = self.vertices.len() as u32;
        self.vertices.extend_from_slice(&other.vertices);
        self.indices.extend(other.indices.iter().map(|i| i + base));
    }

    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }

    /// Recomputes smooth normals from the faces (area-weighted).
    pub fn recompute_normals(&mut self) {
        let mut normals = vec![Vec3::ZERO; self.vertices.len()];
        for tri in self.indices.chunks_exact(3) {
            let [a, b, c] = [tri[0], tri[1], tri[2]].map(|i| i as usize);
            let p = |i: usize| Vec3::from(self.vertices[i].position);
            let n = (p(b) - p(a)).cross(p(c) - p(a));
            for i in [a, b, c] {
                normals[i] += n;
            }
        }
        for (v, n) in self.vertices.iter_mut().zip(normals) {
            v.normal = n.normalize_or(Vec3::Y).to_array();
        }
    }

    /// Axis-aligned bounds, `None` for an empty mesh.
    pub fn bounds(&self) -> Option<(Vec3, Vec3)> {
        let mut it = self.vertices.iter().map(|v| Vec3::from(v.position));
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), p| (lo.min(p), hi.max(p))))
    }
}

/// A `rows × cols` grid of points whose columns wrap around (a ring per row),
/// triangulated, with smooth normals averaged from the faces around each point.
/// Normals point away from the ring's centre for counter-clockwise rings seen
/// from above (+y), which is how every body part lays its rings out.
pub fn ring_grid(
    points: &[Vec3],
    rows: usize,
    cols: usize,
    uv: impl Fn(usize, usize) -> [f32; 2],
    material: impl Fn(usize, usize) -> Material,
) -> Mesh {
    debug_assert_eq!(points.len(), rows * cols);
    let at = |r: usize, c: usize| r * cols + (c % cols);
    let mut normals = vec![Vec3::ZERO; points.len()];
    let mut indices = Vec::with_capacity((rows - 1) * cols * 6);
    for r in 0..rows - 1 {
        for c in 0..cols {
            let (a, b, d, e) = (at(r, c), at(r, c + 1), at(r + 1, c), at(r + 1, c + 1));
            for tri in [[a, d, b], [b, d, e]] {
                let n = (points[tri[1]] - points[tri[0]]).cross(points[tri[2]] - points[tri[0]]);
                for &i in &tri {
                    normals[i] += n;
                }
                indices.extend(tri.iter().map(|&i| i as u32));
            }
        }
    }
    let vertices = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| {
            let i = at(r, c);
            Vertex {
                position: points[i].to_array(),
                normal: normals[i].normalize_or(Vec3::Y).to_array(),
                uv: uv(r, c),
                material: material(r, c).id(),
                ao: 1.0,
            }
        })
        .collect();
    Mesh { vertices, indices }
}
