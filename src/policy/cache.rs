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
//! hash of it, so two callers can never share an answer. The memo is per caller: one
//! lookup by the principal per decision, then cheap keys per question. Bounded: when
//! the callers are too many, one arbitrary caller's memo makes room (emptying the map
//! at once would make one request pay for dropping thousands of stores); a caller's
//! own memo is small and is emptied when full.
//!
//! Beside the callers, the `invoke` context's class sets are kept by the set of classes
//! they are built from (shared by all callers: a class set holds class names only).
//! Turning classes into a Cedar set of names with ancestors was a tenth of a warm
//! decision.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use cedar_policy::Entities;

use super::decide::{ClassSet, Disclosure};
use crate::identity::Principal;

const MAX_CALLERS: usize = 4096;
const MAX_ENTITY_STORES_PER_CALLER: usize = 64;
const MAX_DISCLOSE_ANSWERS_PER_CALLER: usize = 1024;
const MAX_CLASS_SETS: usize = 4096;

/// classes found → entity store.
type StoresByClasses = HashMap<Vec<Arc<str>>, Arc<Entities>>;
/// deployment id → `disclose` answer.
type AnswersByDeployment = HashMap<String, Arc<Disclosure>>;

/// Everything memoised for one caller. Looked up once per decision by reference to the
/// principal, so the keys below are the cheap parts (no principal is cloned per
/// question).
#[derive(Debug, Default)]
pub(crate) struct CallerMemo {
    /// requested model → classes found → entity store.
    entities: Mutex<HashMap<String, StoresByClasses>>,
    /// class → deployment id → `disclose` answer.
    disclose: Mutex<HashMap<Arc<str>, AnswersByDeployment>>,
}

#[derive(Debug, Default)]
pub(crate) struct DecisionCache {
    callers: Mutex<HashMap<Principal, Arc<CallerMemo>>>,
    /// classes → the class set the `invoke` context holds for them.
    class_sets: Mutex<HashMap<BTreeSet<Arc<str>>, Arc<ClassSet>>>,
}

impl DecisionCache {
    /// The memo of one caller (created on first sight).
    pub fn caller(&self, principal: &Principal) -> Arc<CallerMemo> {
        let Ok(mut callers) = self.callers.lock() else {
            // A poisoned lock only loses memoisation, never correctness.
            return Arc::new(CallerMemo::default());
        };
        if let Some(memo) = callers.get(principal) {
            return Arc::clone(memo);
        }
        evict_one_if_full(&mut callers, MAX_CALLERS);
        let memo = Arc::new(CallerMemo::default());
        callers.insert(principal.clone(), Arc::clone(&memo));
        memo
    }

    /// The class set of `classes` (built on first sight).
    pub fn class_set(&self, classes: &BTreeSet<Arc<str>>) -> Arc<ClassSet> {
        if let Ok(sets) = self.class_sets.lock()
            && let Some(found) = sets.get(classes)
        {
            return Arc::clone(found);
        }
        let built = Arc::new(ClassSet::new(classes));
        if let Ok(mut sets) = self.class_sets.lock() {
            evict_one_if_full(&mut sets, MAX_CLASS_SETS);
            sets.insert(classes.clone(), Arc::clone(&built));
        }
        built
    }
}

impl CallerMemo {
    pub fn entities(
        &self,
        requested_model: &str,
        classes: &[Arc<str>],
        build: impl FnOnce() -> Result<Entities, String>,
    ) -> Result<Arc<Entities>, String> {
        if let Ok(map) = self.entities.lock()
            && let Some(found) = map.get(requested_model).and_then(|m| m.get(classes))
        {
            return Ok(Arc::clone(found));
        }
        let built = Arc::new(build()?);
        if let Ok(mut map) = self.entities.lock() {
            if map.values().map(HashMap::len).sum::<usize>() >= MAX_ENTITY_STORES_PER_CALLER {
                map.clear();
            }
            map.entry(requested_model.to_owned())
                .or_default()
                .insert(classes.to_vec(), Arc::clone(&built));
        }
        Ok(built)
    }

    pub fn disclose(
        &self,
        class: &Arc<str>,
        deployment: &str,
        ask: impl FnOnce() -> Result<Disclosure, String>,
    ) -> Result<Arc<Disclosure>, String> {
        if let Ok(map) = self.disclose.lock()
            && let Some(found) = map.get(class.as_ref()).and_then(|m| m.get(deployment))
        {
            return Ok(Arc::clone(found));
        }
        let answer = Arc::new(ask()?);
        if let Ok(mut map) = self.disclose.lock() {
            if map.values().map(HashMap::len).sum::<usize>() >= MAX_DISCLOSE_ANSWERS_PER_CALLER {
                map.clear();
            }
            map.entry(Arc::clone(class))
                .or_default()
                .insert(deployment.to_owned(), Arc::clone(&answer));
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
