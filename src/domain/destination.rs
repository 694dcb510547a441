//! Places inside one connected account that a post can go to, where a
//! platform has several (the Matrix rooms an account has joined), and which
//! of them the user picked.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Destination {
    /// The platform's id (`!abc:example.org`).
    pub id: String,
    /// Its name for people (the room's name, else its alias or id).
    pub name: String,
    /// Picked by the user: publishing to the connection posts here.
    #[serde(default)]
    pub selected: bool,
}

impl Destination {
    pub fn new(id: String, name: String) -> Self {
        Self {
            id,
            name,
            selected: false,
        }
    }
}

/// The destinations read at a new sign-in, keeping what the user picked
/// before among those still there; a single one is picked by itself.
pub fn carry_over(fresh: Vec<Destination>, before: &[Destination]) -> Vec<Destination> {
    let alone = fresh.len() == 1;
    fresh
        .into_iter()
        .map(|d| Destination {
            selected: alone || before.iter().any(|b| b.id == d.id && b.selected),
            ..d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconnect_keeps_the_rooms_picked_that_are_still_joined() {
        let room = |id: &str, selected| Destination {
            id: id.into(),
            name: id.into(),
            selected,
        };
        let before = [room("a", true), room("b", false), room("gone", true)];
        let fresh = vec![room("a", false), room("b", false), room("c", false)];
        let after = carry_over(fresh, &before);
        let picked: Vec<&str> = after
            .iter()
            .filter(|d| d.selected)
            .map(|d| d.id.as_str())
            .collect();
        assert_eq!(picked, ["a"]);
        assert!(carry_over(vec![room("only", false)], &[])[0].selected);
    }
}
