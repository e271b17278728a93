//! The mannequin: a body generated from measurements, and the size chart
//! that turns a size label into measurements.

use std::collections::BTreeMap;
use std::f32::consts::{PI, TAU};

use glam::Vec3;
use serde::Deserialize;

use crate::error::{RenderError, Result};
use crate::mesh::{ring_grid, Material, Mesh};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BodyType {
    Female,
    Male,
    Neutral,
}

impl BodyType {
    fn key(self) -> &'static str {
        match self {
            BodyType::Female => "female",
            BodyType::Male => "male",
            BodyType::Neutral => "neutral",
        }
    }
}

/// Body measurements in centimetres (circumferences, except height).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Measurements {
    pub height: f32,
    pub chest: f32,
    pub waist: f32,
    pub hips: f32,
}

pub const SIZES: [&str; 5] = ["S", "M", "L", "XL", "XXL"];

/// Measurements per body type and size, and each garment's ease per size,
/// read from `assets/size-chart.toml`.
#[derive(Clone, Debug, Deserialize)]
pub struct SizeChart {
    /// Garment key → size → circumference added (cm).
    #[serde(default)]
    ease: BTreeMap<String, BTreeMap<String, f32>>,
    /// Body type → size → measurements.
    #[serde(flatten)]
    rows: BTreeMap<String, BTreeMap<String, Measurements>>,
}

impl SizeChart {
    /// The chart shipped in the repository, compiled in.
    pub fn builtin() -> Result<SizeChart> {
        Self::from_toml(include_str!("../../../assets/size-chart.toml"))
    }

    pub fn from_toml(text: &str) -> Result<SizeChart> {
        toml::from_str(text).map_err(|e| RenderError::SizeChart(e.to_string()))
    }

    /// The circumference (cm) `garment` adds at `size`.
    pub fn ease(&self, garment: &str, size: &str) -> Result<f32> {
        let size = size.trim().to_ascii_uppercase();
        let table = self
            .ease
            .get(garment)
            .ok_or_else(|| RenderError::SizeChart(format!("no ease for `{garment}`")))?;
        table
            .get(&size)
            .copied()
            .ok_or(RenderError::UnknownSize(size))
    }

    pub fn get(&self, body: BodyType, size: &str) -> Result<Measurements> {
        let size = size.trim().to_ascii_uppercase();
        let table = self
            .rows
            .get(body.key())
            .ok_or_else(|| RenderError::SizeChart(format!("no `{}` table", body.key())))?;
        table
            .get(&size)
            .copied()
            .ok_or(RenderError::UnknownSize(size))
    }
}

/// Horizontal cross-section of the torso at one height: half-width,
/// half-depth (metres) and how far forward its centre sits.
#[derive(Clone, Copy, Debug)]
struct Section {
    y: f32,
    half_width: f32,
    half_depth: f32,
}

/// Segments around every ring; also used by the garment so its rings line up.
pub const RING_SEGMENTS: usize = 48;

/// The body's proportions, derived once from the measurements; the garment
/// reuses them so it follows the same surface.
#[derive(Clone, Debug)]
pub struct Body {
    pub height: f32,
    sections: Vec<Section>,
    /// Where the arm tubes start and end (right arm; the left is mirrored).
    pub shoulder: Vec3,
    pub wrist: Vec3,
    pub upper_arm_radius: f32,
    pub wrist_radius: f32,
    pub hem_y: f32,
    pub neck_base_y: f32,
    pub neck_radius: f32,
    /// Height of the widest hip ring, where a dress's skirt starts to flare.
    pub hips_y: f32,
    pub knee_y: f32,
}

/// Half-axes of an ellipse with circumference `circ` (cm) and depth/width
/// ratio `k`, in metres (Euler's approximation is close enough for a mannequin).
fn ellipse(circ: f32, k: f32) -> (f32, f32) {
    let a = circ / 100.0 / (TAU * ((1.0 + k * k) / 2.0).sqrt());
    (a, a * k)
}

impl Body {
    pub fn new(m: &Measurements, body: BodyType) -> Body {
        let h = m.height / 100.0;
        let (shoulder_k, chest_k, waist_k, hips_k) = match body {
            BodyType::Female => (0.55, 0.72, 0.75, 0.72),
            BodyType::Male => (0.5, 0.68, 0.78, 0.75),
            BodyType::Neutral => (0.52, 0.7, 0.76, 0.74),
        };
        let (chest_a, chest_b) = ellipse(m.chest, chest_k);
        let (waist_a, waist_b) = ellipse(m.waist, waist_k);
        let (hips_a, hips_b) = ellipse(m.hips, hips_k);
        let shoulder_a = chest_a * 1.12;
        let neck = 0.055 * h / 1.7;
        let s = |f: f32, a: f32, b: f32| Section {
            y: f * h,
            half_width: a,
            half_depth: b,
        };
        let sections = vec![
            s(0.44, hips_a * 0.35, hips_b * 0.5),
            s(0.47, hips_a * 0.9, hips_b * 0.9),
            s(0.52, hips_a, hips_b),
            s(0.62, waist_a, waist_b),
            s(0.72, chest_a, chest_b),
            s(0.77, shoulder_a, chest_b * shoulder_k / 0.55 * 0.85),
            // The shoulder slopes down from the neck rather than stepping.
            s(0.795, shoulder_a * 0.88, chest_b * 0.72),
            s(0.815, shoulder_a * 0.6, chest_b * 0.6),
            s(0.835, neck, neck),
            s(0.87, neck, neck),
        ];
        let shoulder = Vec3::new(shoulder_a * 0.86, 0.765 * h, 0.0);
        let wrist = Vec3::new(shoulder_a * 0.92 + 0.10 * h, 0.47 * h, 0.02 * h);
        Body {
            height: h,
            sections,
            shoulder,
            wrist,
            upper_arm_radius: 0.026 * h,
            wrist_radius: 0.017 * h,
            hem_y: 0.5 * h,
            neck_base_y: 0.83 * h,
            neck_radius: neck,
            hips_y: 0.52 * h,
            knee_y: 0.27 * h,
        }
    }

    /// The torso's cross-section at height `y`, interpolated smoothly
    /// (Catmull-Rom) between the measurement rings.
    pub(crate) fn section_at(&self, y: f32) -> (f32, f32) {
        let s = &self.sections;
        let last = s.len() - 1;
        let y = y.clamp(s[0].y, s[last].y);
        let i = s.windows(2).position(|w| y <= w[1].y).unwrap_or(last - 1);
        let t = (y - s[i].y) / (s[i + 1].y - s[i].y).max(1e-6);
        let p = |j: isize| s[j.clamp(0, last as isize) as usize];
        let cr = |f: fn(&Section) -> f32| {
            let (p0, p1, p2, p3) = (
                f(&p(i as isize - 1)),
                f(&p(i as isize)),
                f(&p(i as isize + 1)),
                f(&p(i as isize + 2)),
            );
            let t2 = t * t;
            0.5 * (2.0 * p1
                + (p2 - p0) * t
                + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * t2
                + (3.0 * p1 - p0 - 3.0 * p2 + p3) * t2 * t)
        };
        (
            cr(|s| s.half_width).max(0.005),
            cr(|s| s.half_depth).max(0.005),
        )
    }

    /// Points of the torso surface between two heights, `rows` rings of
    /// `RING_SEGMENTS`, bottom to top, and their ring angles.
    pub fn torso_points(&self, y0: f32, y1: f32, rows: usize) -> Vec<glam::Vec3> {
        let mut pts = Vec::with_capacity(rows * RING_SEGMENTS);
        for r in 0..rows {
            let y = y0 + (y1 - y0) * r as f32 / (rows - 1) as f32;
            let (a, b) = self.section_at(y);
            for c in 0..RING_SEGMENTS {
                let th = ring_angle(c);
                pts.push(Vec3::new(a * th.cos(), y, b * th.sin()));
            }
        }
        pts
    }

    pub fn torso_top(&self) -> f32 {
        self.sections.last().map_or(self.height * 0.87, |s| s.y)
    }

    pub fn torso_bottom(&self) -> f32 {
        self.sections.first().map_or(self.height * 0.44, |s| s.y)
    }

    /// The whole mannequin: torso with neck, head, arms and legs.
    pub fn mannequin(&self) -> Mesh {
        let h = self.height;
        let skin = |_: usize, _: usize| Material::Skin;
        let no_uv = |_: usize, _: usize| [0.0, 0.0];
        let rows = 28;
        let pts = self.torso_points(self.torso_bottom(), self.torso_top(), rows);
        let mut mesh = ring_grid(&pts, rows, RING_SEGMENTS, no_uv, skin);
        let head_r = 0.062 * h;
        mesh.append(&sphere(
            Vec3::new(0.0, self.torso_top() + head_r * 0.8, 0.01 * h),
            head_r,
        ));
        for side in [1.0, -1.0] {
            let m = Vec3::new(side, 1.0, 1.0);
            mesh.append(&tube(
                self.shoulder * m,
                self.wrist * m,
                |t| capsule_radius(t, self.upper_arm_radius, self.wrist_radius),
                (0.0, 1.0),
                14,
                |_| Material::Skin,
            ));
            let hip = Vec3::new(side * 0.045 * h, 0.47 * h, 0.0);
            let ankle = Vec3::new(side * 0.05 * h, 0.04 * h, 0.0);
            mesh.append(&tube(
                hip,
                ankle,
                |t| capsule_radius(t, 0.05 * h, 0.025 * h),
                (0.0, 1.0),
                16,
                |_| Material::Skin,
            ));
        }
        mesh
    }
}

/// Angle of ring point `c`; rings run counter-clockwise seen from above so
/// that `ring_grid` makes outward normals.
pub fn ring_angle(c: usize) -> f32 {
    TAU * c as f32 / RING_SEGMENTS as f32
}

/// A tube's radius along its length that closes like a capsule at both ends.
fn capsule_radius(t: f32, r0: f32, r1: f32) -> f32 {
    let r = r0 + (r1 - r0) * t;
    let end = 0.08;
    let cap = |d: f32| (1.0 - (1.0 - d / end).powi(2)).max(0.0).sqrt();
    r * if t < end {
        cap(t)
    } else if t > 1.0 - end {
        cap(1.0 - t)
    } else {
        1.0
    }
}

/// A tube around the segment `a → b`, sampled over `range` of its length
/// with `radius(t)`.
pub fn tube(
    a: Vec3,
    b: Vec3,
    radius: impl Fn(f32) -> f32,
    range: (f32, f32),
    rows: usize,
    material: impl Fn(f32) -> Material,
) -> Mesh {
    let dir = (b - a).normalize_or(Vec3::NEG_Y);
    // The ring's basis must satisfy dir × v = u for outward normals.
    let u = dir.any_orthonormal_vector();
    let v = u.cross(dir);
    let mut pts = Vec::with_capacity(rows * RING_SEGMENTS);
    // Rows bunch up towards the ends (cosine spacing), where capsules
    // round off; the straight middle needs few.
    let ts: Vec<f32> = (0..rows)
        .map(|r| {
            let s = 0.5 - 0.5 * (std::f32::consts::PI * r as f32 / (rows - 1) as f32).cos();
            range.0 + (range.1 - range.0) * s
        })
        .collect();
    for &t in &ts {
        let centre = a + (b - a) * t;
        let r = radius(t);
        for c in 0..RING_SEGMENTS {
            let th = ring_angle(c);
            pts.push(centre + (u * th.cos() + v * th.sin()) * r);
        }
    }
    ring_grid(
        &pts,
        rows,
        RING_SEGMENTS,
        |r, c| [c as f32 / RING_SEGMENTS as f32, ts[r]],
        |r, _| material(ts[r]),
    )
}

pub fn sphere(centre: Vec3, radius: f32) -> Mesh {
    let rows = 18;
    let mut pts = Vec::with_capacity(rows * RING_SEGMENTS);
    for r in 0..rows {
        let phi = PI * (r as f32 / (rows - 1) as f32 - 0.5);
        for c in 0..RING_SEGMENTS {
            let th = ring_angle(c);
            pts.push(
                centre + Vec3::new(phi.cos() * th.cos(), phi.sin(), phi.cos() * th.sin()) * radius,
            );
        }
    }
    let mut mesh = ring_grid(
        &pts,
        rows,
        RING_SEGMENTS,
        |_, _| [0.0, 0.0],
        |_, _| Material::Skin,
    );
    // The poles collapse to a point where face normals vanish; the exact
    // normal there is radial.
    for v in &mut mesh.vertices {
        let n = (Vec3::from(v.position) - centre).normalize_or(Vec3::Y);
        v.normal = n.to_array();
    }
    mesh
}
