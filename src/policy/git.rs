//! The Git commit of a policy directory, read from the files under `.git` directly (no
//! `git` binary in the container): `HEAD`, then the ref it names, loose or packed.
//!
//! It rides on every decision next to the content hash, so a reviewer can go from a
//! decision in the SIEM to the commit that made it. It is informational: the content
//! hash is the version, and a commit that cannot be read is simply absent (a checkout
//! with uncommitted changes still reports its HEAD; the hash tells them apart).

use std::path::{Path, PathBuf};

/// The commit checked out in the work tree holding `dir`, if any.
pub fn head_commit(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    let git_dir = dir.ancestors().find_map(git_dir_of)?;
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    match head.strip_prefix("ref:") {
        None => valid_hash(head),
        Some(reference) => resolve_ref(&git_dir, reference.trim()),
    }
}

/// `.git` as a directory, or a `.git` file pointing elsewhere (worktrees, submodules).
fn git_dir_of(dir: &Path) -> Option<PathBuf> {
    let dot_git = dir.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git);
    }
    let text = std::fs::read_to_string(&dot_git).ok()?;
    let target = text.trim().strip_prefix("gitdir:")?.trim();
    let target = Path::new(target);
    Some(if target.is_relative() {
        dir.join(target)
    } else {
        target.to_path_buf()
    })
}

fn resolve_ref(git_dir: &Path, reference: &str) -> Option<String> {
    if reference.contains("..") {
        return None;
    }
    // A linked worktree keeps HEAD locally and refs in the common directory.
    let common = std::fs::read_to_string(git_dir.join("commondir"))
        .ok()
        .map(|c| git_dir.join(c.trim()))
        .unwrap_or_else(|| git_dir.to_path_buf());
    for base in [git_dir, common.as_path()] {
        if let Ok(text) = std::fs::read_to_string(base.join(reference))
            && let Some(hash) = valid_hash(text.trim())
        {
            return Some(hash);
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (hash, name) = line.split_once(' ')?;
        if name.trim() == reference {
            valid_hash(hash)
        } else {
            None
        }
    })
}

fn valid_hash(text: &str) -> Option<String> {
    let ok = matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn reads_a_loose_ref_from_a_parent_checkout() {
        let repo = tempfile::tempdir().unwrap();
        let git = repo.path().join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(git.join("refs/heads/main"), format!("{HASH}\n")).unwrap();
        let policies = repo.path().join("policies");
        std::fs::create_dir_all(&policies).unwrap();
        assert_eq!(head_commit(&policies).as_deref(), Some(HASH));
    }

    #[test]
    fn reads_packed_refs_and_detached_heads() {
        let repo = tempfile::tempdir().unwrap();
        let git = repo.path().join(".git");
        std::fs::create_dir_all(&git).unwrap();
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack-refs with: peeled\n{HASH} refs/heads/main\n"),
        )
        .unwrap();
        assert_eq!(head_commit(repo.path()).as_deref(), Some(HASH));
        std::fs::write(git.join("HEAD"), format!("{HASH}\n")).unwrap();
        assert_eq!(head_commit(repo.path()).as_deref(), Some(HASH));
    }

    #[test]
    fn no_checkout_no_commit() {
        let dir = tempfile::tempdir().unwrap();
        // The temp dir may itself sit inside a checkout on some machines; only assert
        // that garbage in HEAD is not reported.
        let git = dir.path().join(".git");
        std::fs::create_dir_all(&git).unwrap();
        std::fs::write(git.join("HEAD"), "not a hash\n").unwrap();
        assert_eq!(head_commit(dir.path()), None);
    }
}
