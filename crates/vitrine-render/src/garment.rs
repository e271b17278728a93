//! Garments fitted to a `Body`: the torso surface pushed outward along its
//! normals by the size's ease.

use std::f32::consts::{PI, TAU};

use glam::Vec3;

use crate::body::{ring_angle, tube, Body, Measurements, RING_SEGMENTS};
use crate::mesh::{ring_grid, Material, Mesh, Vertex};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Garment {
    TShirt,
}

impl std::str::FromStr for Garment {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tshirt" | "t-shirt" | "tee" => Ok(Garment::TShirt),
            other => Err(format!("unknown garment `{other}` (available: tshirt)")),
        }
    }
}

/// Radial clearance from the skin: the ease spread around the circumference,
/// plus a minimum so the cloth never dips into the body.
fn clearance(m: &Measurements) -> f32 {
    m.ease / 100.0 / TAU + 0.006
}

/// A short-sleeved T-shirt. The front half of the body (facing +z, the
/// front camera) carries the photo: `u` runs left→right as seen from the
/// front, `v` top→bottom from the neckline to the hem.
pub fn tshirt(body: &Body, m: &Measurements) -> Mesh {
    let gap = clearance(m);
    let rows = 32;
    let (y0, y1) = (body.hem_y, body.neck_base_y);
    let pts = body.torso_points(y0, y1, rows);
    let front = |c: usize| ring_angle(c).sin() > 0.0;
    let mut mesh = ring_grid(
        &pts,
        rows,
        RING_SEGMENTS,
        |r, c| {
            let u = (1.0 - ring_angle(c) / PI).clamp(0.0, 1.0);
            [u, 1.0 - r as f32 / (rows - 1) as f32]
        },
        |_, c| {
            if front(c) {
                Material::GarmentFront
            } else {
                Material::GarmentFill
            }
        },
    );
    offset_along_normals(&mut mesh.vertices, gap);
    for side in [1.0, -1.0] {
        let flip = Vec3::new(side, 1.0, 1.0);
        let (a, b) = (body.shoulder * flip, body.wrist * flip);
        let (r0, r1) = (body.upper_arm_radius, body.wrist_radius);
        mesh.append(&tube(
            a,
            b,
            |t| r0 + (r1 - r0) * t + gap * 1.6,
            (-0.06, 0.32),
            10,
            |_| Material::GarmentFill,
        ));
    }
    mesh
}

fn offset_along_normals(vertices: &mut [Vertex], d: f32) {
    for v in vertices {
        let p = Vec3::from(v.position) + Vec3::from(v.normal) * d;
        v.position = p.to_array();
    }
}

/// A flat ellipse on the floor under the figure; the shader fades it out
/// towards the rim for a soft contact shadow.
pub fn ground_shadow(body: &Body) -> Mesh {
    let (rx, rz) = (0.26 * body.height, 0.16 * body.height);
    let corners = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)];
    let vertices = corners
        .iter()
        .map(|&(x, z)| Vertex {
            position: [x * rx, 0.0, z * rz],
            normal: [0.0, 1.0, 0.0],
            uv: [x, z],
            material: Material::Shadow as u32 as f32,
        })
        .collect();
    Mesh {
        vertices,
        indices: vec![0, 2, 1, 0, 3, 2],
    }
}
