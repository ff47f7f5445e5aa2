//! The playgrounds of a server: independent (two browser tabs never share a network),
//! capped in number with the one idle longest dropped, and expired when idle.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::limits::{IDLE_EXPIRY, MAX_PLAYGROUNDS};
use squiggle_playground::Playground;

/// One playground behind its own lock, so that requests to different playgrounds run side
/// by side and requests to one run one after another.
pub type Shared = Arc<Mutex<Playground>>;

struct Entry {
    playground: Shared,
    last_used: Instant,
}

/// The playgrounds by id.
#[derive(Default)]
pub struct Registry {
    entries: HashMap<String, Entry>,
    created: u64,
    ids: RandomState,
}

impl Registry {
    /// Keeps `playground` under a new id (unguessable: a count and a random 64-bit tag),
    /// dropping expired playgrounds and, at the cap, the one idle longest.
    pub fn insert(&mut self, playground: Playground, now: Instant) -> (String, Shared) {
        self.expire(now);
        while self.entries.len() >= MAX_PLAYGROUNDS {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(id) => self.entries.remove(&id),
                None => break,
            };
        }
        self.created += 1;
        let tag = self.ids.hash_one(self.created);
        let id = format!("{}-{tag:016x}", self.created);
        let shared = Arc::new(Mutex::new(playground));
        self.entries.insert(
            id.clone(),
            Entry {
                playground: Arc::clone(&shared),
                last_used: now,
            },
        );
        (id, shared)
    }

    /// The playground `id`, marked as used `now`.
    pub fn get(&mut self, id: &str, now: Instant) -> Option<Shared> {
        self.expire(now);
        let entry = self.entries.get_mut(id)?;
        entry.last_used = now;
        Some(Arc::clone(&entry.playground))
    }

    /// Drops playground `id`; false when there was none.
    pub fn remove(&mut self, id: &str) -> bool {
        self.entries.remove(id).is_some()
    }

    /// Drops every playground idle for [`IDLE_EXPIRY`] at `now`.
    pub fn expire(&mut self, now: Instant) {
        self.entries
            .retain(|_, e| now.saturating_duration_since(e.last_used) < IDLE_EXPIRY);
    }

    /// Playgrounds kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use squiggle_config::Overrides;
    use squiggle_playground::presets::Preset;

    fn playground() -> Playground {
        let preset = Preset::find("statquest-pt2").unwrap();
        Playground::new(
            preset.name,
            &preset.path(),
            preset.text.to_string(),
            Overrides::default(),
            crate::session::playground_device,
        )
        .unwrap_or_else(|_| panic!("the preset loads"))
    }

    #[test]
    fn the_longest_idle_playground_makes_room_and_idle_ones_expire() {
        let mut registry = Registry::default();
        let start = Instant::now();
        let tick = std::time::Duration::from_secs(1);
        let ids: Vec<String> = (0..MAX_PLAYGROUNDS as u32)
            .map(|k| registry.insert(playground(), start + tick * k).0)
            .collect();
        assert_eq!(registry.len(), MAX_PLAYGROUNDS);
        // The first is used again, so the second is now the one idle longest.
        let now = start + tick * 100;
        assert!(registry.get(&ids[0], now).is_some());
        let (newest, _) = registry.insert(playground(), now);
        assert_eq!(registry.len(), MAX_PLAYGROUNDS);
        assert!(registry.get(&ids[1], now).is_none(), "dropped");
        assert!(registry.get(&ids[0], now).is_some());
        assert!(registry.get(&newest, now).is_some());
        assert_ne!(newest, ids[0]);
        // Idle for the expiry time: gone, whatever the count.
        let later = now + IDLE_EXPIRY;
        assert!(registry.get(&newest, later).is_none());
        assert_eq!(registry.len(), 0);
        assert!(!registry.remove(&newest));
    }
}
