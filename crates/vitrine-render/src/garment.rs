//! Garments fitted to a `Body`: the torso surface pushed outward along its
//! normals by the size's ease, plus each garment's own pieces (sleeves,
//! hood, collar, skirt), then textured by projecting the product photo
//! onto the front and the back.

use std::f32::consts::TAU;

use glam::Vec3;

use crate::body::{ring_angle, sphere, tube, Body, RING_SEGMENTS};
use crate::mesh::{ring_grid, Material, Mesh, Vertex};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Garment {
    TShirt,
    Hoodie,
    Polo,
    Dress,
}

impl Garment {
    pub const ALL: [Garment; 4] = [
        Garment::TShirt,
        Garment::Hoodie,
        Garment::Polo,
        Garment::Dress,
    ];

    /// The name used on the command line and in the size chart's `[ease]`.
    pub fn key(self) -> &'static str {
        match self {
            Garment::TShirt => "tshirt",
            Garment::Hoodie => "hoodie",
            Garment::Polo => "polo",
            Garment::Dress => "dress",
        }
    }

    /// The garment that shows a product of a category from the knowledge
    /// graph (`assets/kg/categories.toml` keys), if any fits.
    pub fn from_category(key: &str) -> Option<Garment> {
        let leaf = key.rsplit('.').next().unwrap_or(key);
        Some(match leaf {
            "t_shirts" | "tank_tops" | "tops" => Garment::TShirt,
            "hoodies" | "sweaters" => Garment::Hoodie,
            "polos" | "shirts" | "blouses" => Garment::Polo,
            "dresses" => Garment::Dress,
            _ => return None,
        })
    }

    /// The garment's mesh on `body`, with `ease_cm` of circumference added.
    pub fn build(self, body: &Body, ease_cm: f32) -> Mesh {
        let gap = clearance(ease_cm);
        let h = body.height;
        let mut mesh = match self {
            Garment::TShirt => {
                let mut m = torso(body, body.hem_y, gap, |_, _| 0.0);
                m.append(&sleeves(body, gap, 0.32));
                m
            }
            Garment::Polo => {
                // The placket: a strip down the front from the collar,
                // standing a little proud of the cloth.
                let top = body.neck_base_y;
                let mut m = torso(body, body.hem_y, gap, |y, th| {
                    let centre = th.cos().abs() < 0.09 && th.sin() > 0.0;
                    if centre && y > top - 0.085 * h {
                        0.004
                    } else {
                        0.0
                    }
                });
                m.append(&sleeves(body, gap, 0.3));
                m.append(&collar(body, gap));
                m
            }
            Garment::Hoodie => {
                // A kangaroo pocket on the belly, in relief.
                let (p0, p1) = (body.hem_y + 0.025 * h, body.hem_y + 0.1 * h);
                let mut m = torso(body, body.hem_y - 0.02 * h, gap, |y, th| {
                    let front = th.sin() > 0.0 && th.cos().abs() < 0.55;
                    if front && (p0..p1).contains(&y) {
                        0.006
                    } else {
                        0.0
                    }
                });
                m.append(&sleeves(body, gap, 0.97));
                m.append(&hood(body, gap));
                m
            }
            Garment::Dress => {
                let mut m = dress_body(body, gap);
                m.append(&sleeves(body, gap * 0.8, 0.14));
                m
            }
        };
        project_photo_uv(&mut mesh);
        mesh
    }
}

impl std::str::FromStr for Garment {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tshirt" | "t-shirt" | "tee" => Ok(Garment::TShirt),
            "hoodie" => Ok(Garment::Hoodie),
            "polo" => Ok(Garment::Polo),
            "dress" => Ok(Garment::Dress),
            other => Err(format!(
                "unknown garment `{other}` (available: tshirt, hoodie, polo, dress)"
            )),
        }
    }
}

/// Radial clearance from the skin: the ease spread around the circumference,
/// plus a minimum so the cloth never dips into the body.
fn clearance(ease_cm: f32) -> f32 {
    ease_cm / 100.0 / TAU + 0.006
}

/// Outward direction of an elliptical ring with half-axes `a`, `b` at angle `th`.
fn ring_normal(a: f32, b: f32, th: f32) -> Vec3 {
    Vec3::new(b * th.cos(), 0.0, a * th.sin()).normalize_or(Vec3::X)
}

/// Torso cloth from `hem` up to the neck base, `gap` out from the skin plus
/// `relief(y, angle)` (pockets, plackets).
fn torso(body: &Body, hem: f32, gap: f32, relief: impl Fn(f32, f32) -> f32) -> Mesh {
    let rows = 24;
    let top = body.neck_base_y;
    let mut pts = Vec::with_capacity(rows * RING_SEGMENTS);
    for r in 0..rows {
        let y = hem + (top - hem) * r as f32 / (rows - 1) as f32;
        let (a, b) = body.section_at(y);
        for c in 0..RING_SEGMENTS {
            let th = ring_angle(c);
            let p = Vec3::new(a * th.cos(), y, b * th.sin());
            pts.push(p + ring_normal(a, b, th) * (gap + relief(y, th)));
        }
    }
    ring_grid(
        &pts,
        rows,
        RING_SEGMENTS,
        |_, _| [0.0, 0.0],
        |_, _| Material::GarmentFront,
    )
}

/// Both sleeves, covering the arm from the shoulder to `length` (0..1 of
/// shoulder → wrist); long sleeves end in a slightly wider cuff.
fn sleeves(body: &Body, gap: f32, length: f32) -> Mesh {
    let mut mesh = Mesh::default();
    for side in [1.0, -1.0] {
        let flip = Vec3::new(side, 1.0, 1.0);
        let (a, b) = (body.shoulder * flip, body.wrist * flip);
        let (r0, r1) = (body.upper_arm_radius, body.wrist_radius);
        let rows = (8.0 + 14.0 * length) as usize;
        mesh.append(&tube(
            a,
            b,
            |t| {
                let cuff = if length > 0.8 && t > length - 0.08 {
                    0.004
                } else {
                    0.0
                };
                // Sleeves are cut closer than the body: the ease there is
                // a fraction of the torso's.
                r0 + (r1 - r0) * t + 0.012 + gap * 0.6 + cuff
            },
            (-0.06, length),
            rows,
            |_| Material::GarmentFront,
        ));
    }
    mesh
}

/// A polo's collar: a band round the neck that stands up at the back and
/// dips towards the open front.
fn collar(body: &Body, gap: f32) -> Mesh {
    let h = body.height;
    let rows = 6;
    let base = body.neck_base_y - 0.012 * h;
    let mut pts = Vec::with_capacity(rows * RING_SEGMENTS);
    for r in 0..rows {
        let t = r as f32 / (rows - 1) as f32;
        for c in 0..RING_SEGMENTS {
            let th = ring_angle(c);
            let front = th.sin().max(0.0).powi(4);
            let rise = 0.035 * h * (1.0 - 0.8 * front);
            let radius = body.neck_radius + gap + 0.006 + 0.012 * t;
            pts.push(Vec3::new(
                radius * th.cos(),
                base + rise * t,
                radius * th.sin(),
            ));
        }
    }
    ring_grid(
        &pts,
        rows,
        RING_SEGMENTS,
        |_, _| [0.0, 0.0],
        |_, _| Material::GarmentFront,
    )
}

/// A hoodie's hood, down: a soft bundle of cloth lying behind the neck on
/// the upper back, and the band round the neckline that joins it.
fn hood(body: &Body, gap: f32) -> Mesh {
    let h = body.height;
    let centre = Vec3::new(
        0.0,
        body.neck_base_y - 0.005 * h,
        -(body.neck_radius + 0.045 * h),
    );
    let radii = Vec3::new(0.085 * h, 0.055 * h, 0.045 * h);
    let mut mesh = sphere(Vec3::ZERO, 1.0);
    for v in &mut mesh.vertices {
        let unit = Vec3::from(v.position);
        // Flattened against the back: the half towards the body is pressed in.
        let squash = if unit.z > 0.0 { 0.55 } else { 1.0 };
        let r = radii * Vec3::new(1.0, 1.0, squash);
        v.position = (centre + unit * r).to_array();
        v.normal = (unit / r).normalize_or(Vec3::Y).to_array();
        v.material = Material::GarmentFront.id();
    }
    let rows = 4;
    let base = body.neck_base_y - 0.015 * h;
    let mut pts = Vec::with_capacity(rows * RING_SEGMENTS);
    for r in 0..rows {
        let t = r as f32 / (rows - 1) as f32;
        for c in 0..RING_SEGMENTS {
            let th = ring_angle(c);
            let radius = body.neck_radius + gap + 0.012 - 0.004 * t;
            pts.push(Vec3::new(
                radius * th.cos(),
                base + 0.03 * h * t,
                radius * th.sin(),
            ));
        }
    }
    mesh.append(&ring_grid(
        &pts,
        rows,
        RING_SEGMENTS,
        |_, _| [0.0, 0.0],
        |_, _| Material::GarmentFront,
    ));
    mesh
}

/// A dress: the bodice follows the torso down to the hips, then the skirt
/// flares out to just above the knee.
fn dress_body(body: &Body, gap: f32) -> Mesh {
    let rows = 44;
    let (hem, top) = (body.knee_y + 0.03 * body.height, body.neck_base_y);
    let (hip_a, hip_b) = body.section_at(body.hips_y);
    let mut pts = Vec::with_capacity(rows * RING_SEGMENTS);
    for r in 0..rows {
        let y = hem + (top - hem) * r as f32 / (rows - 1) as f32;
        let (a, b) = if y >= body.hips_y {
            body.section_at(y)
        } else {
            // A smooth (quadratic) flare: the skirt leaves the hips tangentially.
            let t = (body.hips_y - y) / (body.hips_y - hem);
            let k = 1.0 + 0.5 * t * t + 0.1 * t;
            (hip_a * k, hip_b * k)
        };
        for c in 0..RING_SEGMENTS {
            let th = ring_angle(c);
            let p = Vec3::new(a * th.cos(), y, b * th.sin());
            pts.push(p + ring_normal(a, b, th) * gap);
        }
    }
    ring_grid(
        &pts,
        rows,
        RING_SEGMENTS,
        |_, _| [0.0, 0.0],
        |_, _| Material::GarmentFront,
    )
}

/// Planar projection of the product photo, the way a flat-lay photo sees
/// the garment: the garment's front silhouette box maps onto the photo's
/// cut-out box. Surfaces facing the front take the front photo, the rest
/// the back one; `uv = [x, v]` as `Vertex::uv` describes.
fn project_photo_uv(mesh: &mut Mesh) {
    let Some((lo, hi)) = mesh.bounds() else {
        return;
    };
    let half_width = lo.x.abs().max(hi.x.abs()).max(1e-4);
    let height = (hi.y - lo.y).max(1e-4);
    for v in &mut mesh.vertices {
        let p = Vec3::from(v.position);
        v.uv = [p.x / half_width, (hi.y - p.y) / height];
        v.material = if v.normal[2] >= 0.0 {
            Material::GarmentFront
        } else {
            Material::GarmentBack
        }
        .id();
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
            material: Material::Shadow.id(),
            ao: 1.0,
        })
        .collect();
    Mesh {
        vertices,
        indices: vec![0, 2, 1, 0, 3, 2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{BodyType, SizeChart};

    fn body() -> Body {
        let chart = SizeChart::builtin().unwrap_or_else(|e| panic!("{e}"));
        let m = chart
            .get(BodyType::Neutral, "M")
            .unwrap_or_else(|e| panic!("{e}"));
        Body::new(&m, BodyType::Neutral)
    }

    #[test]
    fn garments_differ_where_they_should() {
        let b = body();
        let extent = |g: Garment| g.build(&b, 9.0).bounds().unwrap_or_default();
        let (tee, hoodie, dress) = (
            extent(Garment::TShirt),
            extent(Garment::Hoodie),
            extent(Garment::Dress),
        );
        // Long sleeves reach lower than short ones; the dress reaches the knee.
        assert!(hoodie.0.y < tee.0.y - 0.02);
        assert!(dress.0.y < b.hips_y - 0.15 * b.height);
        // The hood sits behind the neck, beyond the T-shirt's back.
        assert!(hoodie.0.z < tee.0.z - 0.03);
    }

    #[test]
    fn more_ease_sits_further_out() {
        let b = body();
        let width = |ease| {
            let m = Garment::TShirt.build(&b, ease);
            let chest = 0.72 * b.height;
            m.vertices
                .iter()
                .filter(|v| (v.position[1] - chest).abs() < 0.01 && v.position[0].abs() < 0.25)
                .map(|v| v.position[2])
                .fold(f32::MIN, f32::max)
        };
        assert!(width(20.0) > width(8.0) + 0.015);
    }

    #[test]
    fn categories_map_to_garments() {
        assert_eq!(
            Garment::from_category("apparel.tops.hoodies"),
            Some(Garment::Hoodie)
        );
        assert_eq!(
            Garment::from_category("apparel.dresses"),
            Some(Garment::Dress)
        );
        assert_eq!(Garment::from_category("home.cushions"), None);
    }
}
