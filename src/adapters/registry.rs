//! Which platforms this process can talk to, by id.

use std::sync::Arc;

use secrecy::SecretString;

use super::{Binding, PlatformAdapter};

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

    /// The adapter for one connection: bound to the server its account lives
    /// on (`service_url`, stored when it was connected) and the secret its
    /// grant needs, where the platform has either; a stored URL that no
    /// longer parses falls back to the default server.
    pub fn for_connection(
        &self,
        id: &str,
        service_url: Option<&str>,
        grant_secret: Option<&SecretString>,
    ) -> Option<Arc<dyn PlatformAdapter>> {
        let adapter = self.get(id)?;
        let service = service_url.and_then(|url| url::Url::parse(url).ok());
        let bound = adapter.bind(&Binding {
            service: service.as_ref(),
            grant_secret,
        });
        Some(bound.unwrap_or_else(|| adapter.clone()))
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn PlatformAdapter>> {
        self.adapters.iter()
    }
}
