//! The ids of the engine's rows, in one place so every layer can name them
//! without reaching into the layer that stores them.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A post a user wrote.
    PostId
);
id_type!(
    /// The publishing of one post to its targets.
    JobId
);
id_type!(
    /// Publishing one post to one connection; also the platform's idempotency key.
    TaskId
);
id_type!(
    /// One connected platform account (a row of `platform_connections`).
    ConnectionId
);

id_type!(
    /// An image or video a user uploaded.
    MediaId
);

id_type!(
    /// A post saved to finish later (nothing runs it).
    DraftId
);
