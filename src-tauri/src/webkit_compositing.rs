//! Whether WebKitGTK composites the page with OpenGL.
//!
//! On a machine without a GPU, WebKitGTK's accelerated compositing still
//! runs, through Mesa's software OpenGL (llvmpipe): every repaint of the
//! page is then rasterised by two more CPU threads. While the try-on panel
//! turns on a 2-core host that compositing took more CPU than the 3D
//! render itself (perf: 55% of all samples in the web process's llvmpipe
//! threads against 9% in the renderer) and held the panel at ~15 fps;
//! with it off the same panel turned at 50–65 fps (docs/PERFORMANCE.md).
//! So without a GPU the page is painted on the CPU directly, the way
//! WebKit does when `WEBKIT_DISABLE_COMPOSITING_MODE` is set. With a GPU
//! nothing changes.
//!
//! `VITRINE_WEBKIT_COMPOSITING` overrides the choice: `on`, `off` or
//! `auto` (the default). A `WEBKIT_DISABLE_COMPOSITING_MODE` the user set
//! is left alone. Linux only: elsewhere WebKit is not WebKitGTK.

use std::path::Path;

/// What the user asked for in `VITRINE_WEBKIT_COMPOSITING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wish {
    Auto,
    On,
    Off,
}

impl Wish {
    /// The variable's value (unset: `auto`); an unknown value is the error,
    /// which the caller reports and reads as `auto`, so that a typo never
    /// keeps the app from starting.
    pub fn parse(value: Option<&str>) -> Result<Wish, String> {
        let Some(v) = value.map(|v| v.trim().to_ascii_lowercase()) else {
            return Ok(Wish::Auto);
        };
        match v.as_str() {
            "" | "auto" => Ok(Wish::Auto),
            "on" | "1" | "true" | "yes" => Ok(Wish::On),
            "off" | "0" | "false" | "no" => Ok(Wish::Off),
            _ => Err(v),
        }
    }
}

/// What was decided, and why (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// WebKit's own default: composited, on the GPU when there is one.
    Keep(&'static str),
    /// Painted on the CPU: `WEBKIT_DISABLE_COMPOSITING_MODE=1`.
    Disable(&'static str),
}

/// The choice, from the wish, whether the user already set WebKit's own
/// variable, and whether the machine has a GPU render node.
pub fn decide(wish: Wish, webkit_var_set: bool, has_render_node: bool) -> Decision {
    if webkit_var_set {
        return Decision::Keep("WEBKIT_DISABLE_COMPOSITING_MODE is already set");
    }
    match wish {
        Wish::On => Decision::Keep("VITRINE_WEBKIT_COMPOSITING=on"),
        Wish::Off => Decision::Disable("VITRINE_WEBKIT_COMPOSITING=off"),
        Wish::Auto if has_render_node => Decision::Keep("a GPU render node is present"),
        Wish::Auto => Decision::Disable(
            "no GPU render node (/dev/dri/renderD*): WebKit would composite through software OpenGL",
        ),
    }
}

/// Whether `dir` (normally `/dev/dri`) holds a render node, which every
/// Linux GPU driver with OpenGL or Vulkan support exposes.
pub fn has_render_node(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false)
}

/// Decides and applies the choice. Must run before any thread starts and
/// before the webview is created: WebKit's web process inherits the
/// environment when it is spawned.
pub fn apply() {
    const WEBKIT_VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    let raw = std::env::var("VITRINE_WEBKIT_COMPOSITING").ok();
    let wish = Wish::parse(raw.as_deref()).unwrap_or_else(|v| {
        tracing::warn!(value = %v, "VITRINE_WEBKIT_COMPOSITING is on, off or auto; using auto");
        Wish::Auto
    });
    let decision = decide(
        wish,
        std::env::var_os(WEBKIT_VAR).is_some(),
        has_render_node(Path::new("/dev/dri")),
    );
    match decision {
        Decision::Keep(why) => {
            tracing::info!(reason = why, "WebKit page compositing as WebKit chooses")
        }
        Decision::Disable(why) => {
            std::env::set_var(WEBKIT_VAR, "1");
            tracing::info!(
                reason = why,
                "WebKit page compositing off: the page is painted on the CPU"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_loosely_and_a_typo_means_auto() {
        assert_eq!(Wish::parse(None), Ok(Wish::Auto));
        assert_eq!(Wish::parse(Some(" OFF ")), Ok(Wish::Off));
        assert_eq!(Wish::parse(Some("on")), Ok(Wish::On));
        assert_eq!(Wish::parse(Some("0")), Ok(Wish::Off));
        assert_eq!(Wish::parse(Some("gpu")), Err("gpu".into()));
    }

    #[test]
    fn without_a_gpu_the_page_is_painted_on_the_cpu() {
        assert!(matches!(
            decide(Wish::Auto, false, false),
            Decision::Disable(_)
        ));
        assert!(matches!(decide(Wish::Auto, false, true), Decision::Keep(_)));
    }

    #[test]
    fn the_user_has_the_last_word() {
        assert!(matches!(decide(Wish::On, false, false), Decision::Keep(_)));
        assert!(matches!(
            decide(Wish::Off, false, true),
            Decision::Disable(_)
        ));
        // Their own WebKit setting, whatever it says, is not overridden.
        assert!(matches!(decide(Wish::Off, true, false), Decision::Keep(_)));
        assert!(matches!(decide(Wish::Auto, true, false), Decision::Keep(_)));
    }

    #[test]
    fn a_render_node_is_found_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(!has_render_node(dir.path()));
        std::fs::write(dir.path().join("card0"), b"").expect("write");
        assert!(!has_render_node(dir.path()));
        std::fs::write(dir.path().join("renderD128"), b"").expect("write");
        assert!(has_render_node(dir.path()));
        assert!(!has_render_node(&dir.path().join("missing")));
    }
}
