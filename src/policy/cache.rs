//! Memo of the parts of a decision that depend only on the caller, the classes found
//! and the catalog: the per-request Cedar entity store and each `disclose` answer.
//!
//! Callers repeat: the same person sends many requests with the same kinds of data.
//! Building the entity store and asking `disclose` per class is most of the cost of a
//! decision (Cedar computes the store's transitive closure and evaluates every
//! applicable policy per question), and both answers are pure functions of the keys
//! below and of the bundle. The memo lives inside the [`super::Bundle`], so a policy
//! reload starts with an empty one; `invoke` is never memoised because its context
//! carries per-request facts (size, stream, tools). Keys hold the whole principal, not a
//! hash of it, so two callers can never share an answer. Each map is bounded: when full,
//! one arbitrary entry makes room (emptying a full map at once would make one request
//! pay for dropping thousands of stores).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cedar_policy::Entities;

use crate::identity::Principal;

const MAX_ENTITY_STORES: usize = 4096;
const MAX_DISCLOSE_ANSWERS: usize = 16384;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct EntitiesKey {
    pub principal: Principal,
    pub requested_model: String,
    pub classes: Vec<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct DiscloseKey {
    pub principal: Principal,
    pub class: Arc<str>,
    pub deployment: String,
}

use super::decide::Disclosure;

#[derive(Debug, Default)]
pub(crate) struct DecisionCache {
    entities: Mutex<HashMap<EntitiesKey, Arc<Entities>>>,
    disclose: Mutex<HashMap<DiscloseKey, Arc<Disclosure>>>,
}

impl DecisionCache {
    pub fn entities(
        &self,
        key: EntitiesKey,
        build: impl FnOnce() -> Result<Entities, String>,
    ) -> Result<Arc<Entities>, String> {
        if let Ok(map) = self.entities.lock()
            && let Some(found) = map.get(&key)
        {
            return Ok(Arc::clone(found));
        }
        let built = Arc::new(build()?);
        if let Ok(mut map) = self.entities.lock() {
            evict_one_if_full(&mut map, MAX_ENTITY_STORES);
            map.insert(key, Arc::clone(&built));
        }
        Ok(built)
    }

    pub fn disclose(
        &self,
        key: DiscloseKey,
        ask: impl FnOnce() -> Result<Disclosure, String>,
    ) -> Result<Arc<Disclosure>, String> {
        if let Ok(map) = self.disclose.lock()
            && let Some(found) = map.get(&key)
        {
            return Ok(Arc::clone(found));
        }
        let answer = Arc::new(ask()?);
        if let Ok(mut map) = self.disclose.lock() {
            evict_one_if_full(&mut map, MAX_DISCLOSE_ANSWERS);
            map.insert(key, Arc::clone(&answer));
        }
        Ok(answer)
    }
}

/// Removes one arbitrary entry when the map holds `capacity` entries or more.
fn evict_one_if_full<K: Clone + Eq + std::hash::Hash, V>(map: &mut HashMap<K, V>, capacity: usize) {
    if map.len() >= capacity
        && let Some(key) = map.keys().next().cloned()
    {
        map.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_loses_one_entry_not_all() {
        let mut map: HashMap<u32, u32> = (0..8).map(|i| (i, i)).collect();
        evict_one_if_full(&mut map, 8);
        assert_eq!(map.len(), 7);
        evict_one_if_full(&mut map, 8);
        assert_eq!(map.len(), 7);
    }
}
