//! Camera presets orbiting the figure.

use glam::{Mat4, Vec3};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Front,
    Back,
    ThreeQuarter,
}

impl std::str::FromStr for View {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "front" => Ok(View::Front),
            "back" => Ok(View::Back),
            "34" | "three-quarter" | "3/4" => Ok(View::ThreeQuarter),
            other => Err(format!("unknown view `{other}` (front, back or 34)")),
        }
    }
}

/// How much of the figure a preset holds: the whole figure with its floor
/// shadow, or knees to head for a listing's detail picture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    #[default]
    Full,
    Close,
}

impl std::str::FromStr for Framing {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Framing::Full),
            "close" => Ok(Framing::Close),
            other => Err(format!("unknown framing `{other}` (full or close)")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Orbit angle around the vertical axis, radians; 0 looks at the front.
    pub azimuth: f32,
    /// Angle above the horizon, radians.
    pub elevation: f32,
    /// Distance from the target, metres.
    pub distance: f32,
    pub target: Vec3,
    pub fov_y: f32,
}

impl Camera {
    /// A preset framing a figure of `height` metres, waist up to head and
    /// the floor shadow in view.
    pub fn preset(view: View, height: f32) -> Camera {
        let azimuth = match view {
            View::Front => 0.0,
            View::Back => std::f32::consts::PI,
            View::ThreeQuarter => 35f32.to_radians(),
        };
        Camera {
            azimuth,
            elevation: 8f32.to_radians(),
            distance: height * 2.3,
            target: Vec3::new(0.0, height * 0.5, 0.0),
            fov_y: 28f32.to_radians(),
        }
    }

    /// This preset framed as `framing` asks, for a figure of `height` metres.
    pub fn framed(mut self, framing: Framing, height: f32) -> Camera {
        if framing == Framing::Close {
            // 28° of field at 1.4 heights spans 0.7 of the height: from
            // above the knees to just over the head, the garment filling it.
            self.distance = height * 1.4;
            self.target.y = height * 0.67;
            self.elevation = 5f32.to_radians();
        }
        self
    }

    /// This camera orbited to `azimuth_deg` around the figure, raised to
    /// `elevation_deg` (kept between looking up from the knees and down
    /// from above the head) and `zoom` times closer (0.5..=4).
    pub fn orbited(mut self, azimuth_deg: f32, elevation_deg: f32, zoom: f32) -> Camera {
        self.azimuth = azimuth_deg.rem_euclid(360.0).to_radians();
        self.elevation = elevation_deg.clamp(-20.0, 60.0).to_radians();
        let zoom = if zoom.is_finite() {
            zoom.clamp(0.5, 4.0)
        } else {
            1.0
        };
        self.distance /= zoom;
        self
    }

    pub fn eye(&self) -> Vec3 {
        let (sa, ca) = self.azimuth.sin_cos();
        let (se, ce) = self.elevation.sin_cos();
        self.target + Vec3::new(sa * ce, se, ca * ce) * self.distance
    }

    pub fn view_proj(&self, aspect: f32) -> Mat4 {
        let view = Mat4::look_at_rh(self.eye(), self.target, Vec3::Y);
        let proj = Mat4::perspective_rh(self.fov_y, aspect, 0.05, self.distance * 4.0);
        proj * view
    }
}
