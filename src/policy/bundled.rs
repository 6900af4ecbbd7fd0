//! The policy directory compiled into the binary, so that `customs serve` with no
//! configuration runs on the repository's own policies, catalog and classifiers.

use super::{PolicySource, SourceFile};

macro_rules! bundled_file {
    ($name:literal) => {
        SourceFile {
            name: $name.to_owned(),
            text: include_str!(concat!("../../policies/", $name)).to_owned(),
        }
    };
}

/// The bundled source.
pub fn source() -> PolicySource {
    PolicySource {
        origin: "bundled".to_owned(),
        policies: vec![
            bundled_file!("echo.cedar"),
            bundled_file!("government-ids.cedar"),
            bundled_file!("providers.cedar"),
            bundled_file!("regulated-data.cedar"),
            bundled_file!("residency.cedar"),
        ],
        catalog: bundled_file!("catalog.toml"),
        classifiers: vec![bundled_file!("classifiers/project-codenames.toml")],
        tests: vec![
            bundled_file!("tests/clouds.toml"),
            bundled_file!("tests/data-classes.toml"),
            bundled_file!("tests/government-ids.toml"),
            bundled_file!("tests/providers.toml"),
            bundled_file!("tests/residency.toml"),
        ],
        commit: None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The bundle must list exactly the files of `policies/`, or the binary would
    /// silently run on a different policy set than the repository holds.
    #[test]
    fn bundle_matches_the_policy_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let on_disk = PolicySource::from_dir(&dir).unwrap();
        let bundled = source();
        let names = |s: &PolicySource| {
            let mut v: Vec<String> = s
                .policies
                .iter()
                .chain(s.classifiers.iter())
                .chain(s.tests.iter())
                .map(|f| f.name.clone())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&on_disk), names(&bundled));
        assert_eq!(on_disk.content_hash(), bundled.content_hash());
    }
}
