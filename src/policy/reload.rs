//! Hot reload: a policy directory read again, validated in full, and swapped in as one
//! [`Bundle`] only when it is valid.
//!
//! The gateway keeps its bundle in a `RwLock<Arc<Bundle>>`; a request clones the `Arc`
//! once at its start and finishes on it, so a swap never changes a decision in flight
//! and no request can see a half-loaded set: the new bundle is built entirely outside
//! the lock and the write lock is held only to replace one pointer. A set that fails
//! to load stays out, the last good one keeps serving, and the failure is reported once
//! per distinct content (the watcher polls, and must not report the same broken commit
//! every few seconds).
//!
//! Triggers (SIGHUP, the directory watch) live in `cli::serve`; they call
//! [`Reloader::reload`], which only reads files and compares content hashes when
//! nothing changed, so polling a directory every few seconds costs little.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use super::{Bundle, PolicySource};

/// What a reload attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The directory holds the set already in force.
    Unchanged {
        /// The version in force.
        version: String,
    },
    /// A new set was validated and swapped in.
    Applied {
        /// The version replaced.
        previous: String,
        /// The version now in force.
        version: String,
        /// Its Git commit, when the directory is a checkout.
        commit: Option<String>,
        /// Its policy count.
        policies: usize,
    },
    /// The new set failed to load; the previous one keeps serving.
    Rejected {
        /// The version that keeps serving.
        kept: String,
        /// The content hash of the rejected set (absent when unreadable).
        candidate: Option<String>,
        /// Its Git commit, when readable.
        commit: Option<String>,
        /// What is wrong, file:line:column first.
        errors: Vec<String>,
        /// Whether this exact content was already rejected before (not worth a new
        /// audit event).
        repeated: bool,
    },
}

/// Reloads one policy directory into one bundle slot.
#[derive(Debug)]
pub struct Reloader {
    dir: PathBuf,
    last_rejected: Mutex<Option<String>>,
}

impl Reloader {
    /// A reloader for `dir`.
    pub fn new(dir: &Path) -> Reloader {
        Reloader {
            dir: dir.to_path_buf(),
            last_rejected: Mutex::new(None),
        }
    }

    /// The directory it reads.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the directory; when its content differs from the bundle in `slot`, loads
    /// and validates it and swaps it in, or leaves `slot` alone when it is invalid.
    pub fn reload(&self, slot: &RwLock<Arc<Bundle>>) -> ReloadOutcome {
        self.reload_checked(slot, |_| Vec::new())
    }

    /// [`reload`](Self::reload), with one more check the gateway makes of a loaded
    /// candidate before it is swapped in (its classifiers against the `[redaction]`
    /// rules): any message `check` returns rejects the set like a load error.
    pub fn reload_checked(
        &self,
        slot: &RwLock<Arc<Bundle>>,
        check: impl Fn(&Bundle) -> Vec<String>,
    ) -> ReloadOutcome {
        let current = match slot.read() {
            Ok(bundle) => Arc::clone(&bundle),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        };
        let source = match PolicySource::from_dir(&self.dir) {
            Ok(source) => source,
            Err(e) => return self.rejected(&current, None, None, vec![e.to_string()]),
        };
        let candidate = source.content_hash();
        if candidate == current.version() && source.commit.as_deref() == current.commit() {
            return ReloadOutcome::Unchanged { version: candidate };
        }
        let loaded = Bundle::load(&source)
            .map_err(|errors| errors.0.iter().map(ToString::to_string).collect::<Vec<_>>())
            .and_then(|bundle| {
                let errors = check(&bundle);
                if errors.is_empty() {
                    Ok(bundle)
                } else {
                    Err(errors)
                }
            });
        match loaded {
            Ok(bundle) => {
                let outcome = ReloadOutcome::Applied {
                    previous: current.version().to_owned(),
                    version: bundle.version().to_owned(),
                    commit: bundle.commit().map(str::to_owned),
                    policies: bundle.policy_count(),
                };
                let bundle = Arc::new(bundle);
                match slot.write() {
                    Ok(mut guard) => *guard = bundle,
                    Err(poisoned) => *poisoned.into_inner() = bundle,
                }
                if let Ok(mut last) = self.last_rejected.lock() {
                    *last = None;
                }
                outcome
            }
            Err(errors) => self.rejected(&current, Some(candidate), source.commit.clone(), errors),
        }
    }

    fn rejected(
        &self,
        current: &Bundle,
        candidate: Option<String>,
        commit: Option<String>,
        errors: Vec<String>,
    ) -> ReloadOutcome {
        let key = candidate
            .clone()
            .unwrap_or_else(|| format!("unreadable:{}", errors.join("\n")));
        let repeated = match self.last_rejected.lock() {
            Ok(mut last) => last.replace(key.clone()).as_deref() == Some(key.as_str()),
            Err(_) => false,
        };
        ReloadOutcome::Rejected {
            kept: current.version().to_owned(),
            candidate,
            commit,
            errors,
            repeated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_bundled(dir: &Path) {
        PolicySource::bundled().write_to(dir).unwrap();
    }

    #[test]
    fn swaps_valid_sets_and_keeps_the_last_good_one() {
        let dir = tempfile::tempdir().unwrap();
        write_bundled(dir.path());
        let first = Bundle::load(&PolicySource::from_dir(dir.path()).unwrap()).unwrap();
        let v1 = first.version().to_owned();
        let slot = RwLock::new(Arc::new(first));
        let reloader = Reloader::new(dir.path());
        assert!(matches!(
            reloader.reload(&slot),
            ReloadOutcome::Unchanged { .. }
        ));

        std::fs::write(
            dir.path().join("extra.cedar"),
            "@id(\"extra\")\n@reason(\"r\")\nforbid (principal, action, resource) when { false };\n",
        )
        .unwrap();
        let ReloadOutcome::Applied {
            previous, version, ..
        } = reloader.reload(&slot)
        else {
            panic!("a valid change applies");
        };
        assert_eq!(previous, v1);
        assert_eq!(slot.read().unwrap().version(), version);

        std::fs::write(
            dir.path().join("extra.cedar"),
            "@id(\"extra\")\npermit (principal, action, resource) when { principal.nope };\n",
        )
        .unwrap();
        let ReloadOutcome::Rejected {
            kept,
            errors,
            repeated,
            ..
        } = reloader.reload(&slot)
        else {
            panic!("an invalid change is rejected");
        };
        assert_eq!(kept, version);
        assert!(!repeated);
        assert!(
            errors.iter().any(|e| e.starts_with("extra.cedar:")),
            "{errors:?}"
        );
        assert_eq!(
            slot.read().unwrap().version(),
            version,
            "last good set kept"
        );
        let ReloadOutcome::Rejected { repeated, .. } = reloader.reload(&slot) else {
            panic!("still invalid");
        };
        assert!(repeated, "the same broken content is reported once");
    }
}
