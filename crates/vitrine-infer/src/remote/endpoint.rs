//! What every client of one server shares in this process: the limit on
//! requests in flight, and the structured-output format the server took.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::ResponseFormat;
use crate::error::{InferError, Result};
use crate::text::CancelToken;

/// How often a request waiting for a slot looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(20);

pub struct Endpoint {
    slots: Mutex<Slots>,
    freed: Condvar,
    /// The format learnt for [`ResponseFormat::Auto`], once known.
    learnt_format: Mutex<Option<ResponseFormat>>,
}

struct Slots {
    in_use: usize,
    limit: usize,
}

/// The shared state of the server at `base_url`, created on first use.
/// Clients that ask for different limits get the strictest: the limit
/// protects the server, whichever client asks.
pub fn endpoint(base_url: &str, limit: usize) -> Arc<Endpoint> {
    static ALL: OnceLock<Mutex<HashMap<String, Arc<Endpoint>>>> = OnceLock::new();
    let limit = limit.max(1);
    let mut all = lock(ALL.get_or_init(Default::default));
    let ep = all
        .entry(base_url.to_string())
        .or_insert_with(|| {
            Arc::new(Endpoint {
                slots: Mutex::new(Slots { in_use: 0, limit }),
                freed: Condvar::new(),
                learnt_format: Mutex::new(None),
            })
        })
        .clone();
    let mut slots = lock(&ep.slots);
    if limit < slots.limit {
        slots.limit = limit;
    }
    drop(slots);
    ep
}

/// A poisoned lock only means another request panicked; the counters it
/// guards are still consistent (each update is one statement).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Endpoint {
    /// Wait for a free slot; the slot is given back when the permit drops.
    pub fn acquire(self: &Arc<Self>, cancel: &CancelToken) -> Result<Permit> {
        let mut slots = lock(&self.slots);
        while slots.in_use >= slots.limit {
            if cancel.is_cancelled() {
                return Err(InferError::Cancelled);
            }
            slots = self
                .freed
                .wait_timeout(slots, CANCEL_POLL)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        slots.in_use += 1;
        Ok(Permit {
            endpoint: Arc::clone(self),
        })
    }

    pub fn limit(&self) -> usize {
        lock(&self.slots).limit
    }

    pub fn learnt_format(&self) -> Option<ResponseFormat> {
        *lock(&self.learnt_format)
    }

    pub fn learn_format(&self, format: ResponseFormat) {
        *lock(&self.learnt_format) = Some(format);
    }
}

/// One request's slot at the server.
pub struct Permit {
    endpoint: Arc<Endpoint>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut slots = lock(&self.endpoint.slots);
        slots.in_use = slots.in_use.saturating_sub(1);
        drop(slots);
        self.endpoint.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn the_strictest_limit_wins_and_slots_come_back() {
        let url = "http://limit.test:1";
        let a = endpoint(url, 3);
        let b = endpoint(url, 1);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.limit(), 1);

        let cancel = CancelToken::new();
        let held = a.acquire(&cancel).unwrap();
        let waiter = {
            let b = Arc::clone(&b);
            std::thread::spawn(move || {
                let t = Instant::now();
                let _p = b.acquire(&CancelToken::new()).unwrap();
                t.elapsed()
            })
        };
        std::thread::sleep(Duration::from_millis(150));
        drop(held);
        let waited = waiter.join().unwrap();
        assert!(waited >= Duration::from_millis(140), "{waited:?}");
    }

    #[test]
    fn waiting_for_a_slot_can_be_cancelled() {
        let ep = endpoint("http://cancel.test:1", 1);
        let _held = ep.acquire(&CancelToken::new()).unwrap();
        let cancel = CancelToken::new();
        cancel.cancel();
        assert!(matches!(ep.acquire(&cancel), Err(InferError::Cancelled)));
    }
}
