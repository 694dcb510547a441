//! Which platforms this process can talk to, by id.

use std::sync::Arc;

use super::PlatformAdapter;

/// The adapters, in display order. Adding a platform: one module, one `with` call
/// where the registry is built (startup).
#[derive(Clone, Default)]
pub struct Registry {
    adapters: Vec<Arc<dyn PlatformAdapter>>,
}

impl Registry {
    pub fn with(mut self, adapter: Arc<dyn PlatformAdapter>) -> Self {
        self.adapters.retain(|a| a.id() != adapter.id());
        self.adapters.push(adapter);
        self
    }

    pub fn get(&self, id: &str) -> Option<&Arc<dyn PlatformAdapter>> {
        self.adapters.iter().find(|a| a.id() == id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn PlatformAdapter>> {
        self.adapters.iter()
    }
}
