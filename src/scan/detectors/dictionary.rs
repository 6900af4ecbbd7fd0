//! CONFIDENTIAL.* : the custom dictionary classifiers, all matched in one pass.
//!
//! All terms of all classifiers go into at most two Aho-Corasick automata (one for the
//! case-sensitive classifiers, one ASCII-case-insensitive), so the cost of a scan does
//! not grow with the number of classifier files. Matches are reported overlapping
//! (standard semantics) so that a term failing the whole-word check never hides another
//! term that passes it; the scanner's overlap resolution then keeps the best one.
//!
//! Case folding is ASCII-only in the automaton. For a case-insensitive term with
//! non-ASCII letters, its lowercase and uppercase forms are added as extra patterns, so
//! `Café`, `café` and `CAFÉ` all match; other mixed-case spellings of non-ASCII letters
//! wait for the Unicode normalisation step.

use aho_corasick::{AhoCorasick, MatchKind};

use super::{Detector, Input, is_word_char};
use crate::scan::{ClassInfo, Classifier, Finding, ScanError};

/// One compiled classifier: what a match of its terms becomes.
#[derive(Debug)]
struct Compiled {
    info: ClassInfo,
    whole_word: bool,
    confidence: f32,
}

/// One automaton and, per pattern, the index of its classifier.
#[derive(Debug)]
struct Automaton {
    matcher: AhoCorasick,
    owner: Vec<usize>,
}

/// Detects the terms of custom classifiers.
#[derive(Debug)]
pub(crate) struct DictionaryDetector {
    classifiers: Vec<Compiled>,
    automata: Vec<Automaton>,
}

impl DictionaryDetector {
    /// Compiles the classifiers (which must already be validated individually).
    pub(crate) fn new(classifiers: &[Classifier]) -> Result<Self, ScanError> {
        let mut exact: (Vec<String>, Vec<usize>) = (Vec::new(), Vec::new());
        let mut folded: (Vec<String>, Vec<usize>) = (Vec::new(), Vec::new());
        for (idx, c) in classifiers.iter().enumerate() {
            let (patterns, owner) = if c.case_sensitive() {
                &mut exact
            } else {
                &mut folded
            };
            for term in c.terms() {
                patterns.push(term.clone());
                owner.push(idx);
                if !c.case_sensitive() && !term.is_ascii() {
                    let mut forms: Vec<String> = vec![term.clone()];
                    for variant in [term.to_lowercase(), term.to_uppercase()] {
                        // Skip forms the ASCII-folding automaton already matches.
                        if !forms.iter().any(|f| f.eq_ignore_ascii_case(&variant)) {
                            forms.push(variant.clone());
                            patterns.push(variant);
                            owner.push(idx);
                        }
                    }
                }
            }
        }
        let mut automata = Vec::new();
        for ((patterns, owner), fold) in [(exact, false), (folded, true)] {
            if patterns.is_empty() {
                continue;
            }
            let matcher = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(fold)
                .build(&patterns)
                .map_err(|e| ScanError::Classifier {
                    source_name: "<all classifiers>".to_owned(),
                    message: format!("cannot compile the dictionary: {e}"),
                })?;
            automata.push(Automaton { matcher, owner });
        }
        Ok(DictionaryDetector {
            classifiers: classifiers
                .iter()
                .map(|c| Compiled {
                    info: c.class_info().clone(),
                    whole_word: c.whole_word(),
                    confidence: c.confidence(),
                })
                .collect(),
            automata,
        })
    }
}

impl Detector for DictionaryDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        self.classifiers.iter().map(|c| c.info.clone()).collect()
    }

    fn detect(&self, input: &Input<'_>, out: &mut Vec<Finding>) {
        for automaton in &self.automata {
            for m in automaton.matcher.find_overlapping_iter(input.bytes) {
                let Some(c) = automaton
                    .owner
                    .get(m.pattern().as_usize())
                    .and_then(|&i| self.classifiers.get(i))
                else {
                    continue;
                };
                if c.whole_word && !whole_word(input, m.start(), m.end()) {
                    continue;
                }
                out.extend(input.finding(&c.info, m.start(), m.end(), c.confidence));
            }
        }
    }
}

/// A match is a whole word when a word character at either of its edges is not
/// continued by another word character outside it (`C++` may be followed by a letter).
fn whole_word(input: &Input<'_>, start: usize, end: usize) -> bool {
    let Some(matched) = input.text.get(start..end) else {
        return false;
    };
    let first_is_word = matched.chars().next().is_some_and(is_word_char);
    let last_is_word = matched.chars().next_back().is_some_and(is_word_char);
    (!first_is_word || input.word_boundary_before(start))
        && (!last_is_word || input.word_boundary_after(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier(extra: &str, terms: &str) -> Result<Classifier, ScanError> {
        Classifier::from_toml(
            "t.toml",
            &format!(
                "id = \"t\"\nclass = \"CONFIDENTIAL.T\"\nentity = \"T\"\nseverity = \"high\"\n{extra}\nterms = {terms}\n"
            ),
        )
    }

    fn spans(c: Classifier, text: &str) -> Result<Vec<&str>, ScanError> {
        let mut out = Vec::new();
        DictionaryDetector::new(&[c])?.detect(&Input::new(text), &mut out);
        Ok(out
            .iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect())
    }

    #[test]
    fn case_insensitive_whole_words_by_default() -> Result<(), ScanError> {
        let c = classifier("", r#"["Nightjar", "Project Bluebird"]"#)?;
        assert_eq!(
            spans(c, "nightjar, NIGHTJARS, project bluebird! xNightjar")?,
            ["nightjar", "project bluebird"]
        );
        Ok(())
    }

    #[test]
    fn case_sensitive_and_substring_modes() -> Result<(), ScanError> {
        let c = classifier("case_sensitive = true", r#"["Nightjar"]"#)?;
        assert_eq!(spans(c, "nightjar Nightjar")?, ["Nightjar"]);
        let c = classifier("whole_word = false", r#"["jar"]"#)?;
        assert_eq!(spans(c, "Nightjars")?, ["jar"]);
        Ok(())
    }

    #[test]
    fn non_ascii_terms_and_symbol_edges() -> Result<(), ScanError> {
        let c = classifier("", r#"["Café Noir", "C++"]"#)?;
        assert_eq!(
            spans(c, "CAFÉ NOIR and café noir and C++x")?,
            ["CAFÉ NOIR", "café noir", "C++"]
        );
        Ok(())
    }

    #[test]
    fn a_failed_word_check_does_not_hide_an_overlapping_term() -> Result<(), ScanError> {
        let c = classifier("", r#"["Blue Sky", "Sky Harbor"]"#)?;
        assert_eq!(spans(c, "Blue Sky Harbors")?, ["Blue Sky"]);
        Ok(())
    }
}
