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
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Vertex {
    pub position: [f32; 3],
    pub normal: [f32; 3],
    pub uv: [f32; 2],
    pub material: f32,
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
                material: material(r, c) as u32 as f32,
            }
        })
        .collect();
    Mesh { vertices, indices }
}
