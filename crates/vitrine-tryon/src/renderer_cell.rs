//! One renderer per process, opened on first use: opening a device costs
//! tens of milliseconds on a GPU and more on lavapipe, and a host without
//! any adapter should fail only when a try-on is asked for.

use std::sync::{Arc, Mutex};

use vitrine_render::{RenderError, Renderer};

use crate::Result;

#[derive(Default)]
pub struct RendererCell(Mutex<Option<Arc<Renderer>>>);

impl RendererCell {
    /// The renderer, opened now if this is the first call. A failed open
    /// is not remembered, so installing a driver and retrying works.
    pub fn get(&self) -> Result<Arc<Renderer>> {
        self.get_with(Renderer::new_headless)
    }

    /// As [`RendererCell::get`], opening the renderer with `open` (e.g. on
    /// a thread of lower priority, whose priority its workers inherit).
    pub fn get_with(
        &self,
        open: impl FnOnce() -> std::result::Result<Renderer, RenderError>,
    ) -> Result<Arc<Renderer>> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = slot.as_ref() {
            return Ok(Arc::clone(r));
        }
        let r = Arc::new(open()?);
        tracing::info!(
            adapter = r.adapter_name(),
            software = r.is_software(),
            "try-on renderer ready"
        );
        *slot = Some(Arc::clone(&r));
        Ok(r)
    }
}
