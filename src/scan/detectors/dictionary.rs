//! CONFIDENTIAL.* : the custom dictionary classifiers, all matched in one pass.
//!
//! All terms of all classifiers go into at most two automata (one for case-sensitive
//! classifiers, one for case-insensitive ones), so the cost of a scan does not grow
//! with the number of classifier files.
//!
//! Case-insensitive matching runs on the folded text the trigger pass makes anyway
//! (ASCII letters lowercased, digits kept, every other byte a space: see
//! [`Input::folded`]) against the terms folded the same way, and each match is then
//! confirmed against the ASCII-lowercased term (`R&D` folds like `R D`). Folding never
//! changes a byte's position, so offsets carry over as they are; a case-sensitive
//! automaton keeps Aho-Corasick's SIMD prefilter, which its own `ascii_case_insensitive`
//! mode loses (measured: ~0.8 µs instead of ~11 µs on a 4 KB prompt); and no lowercase
//! copy of the text is made for it. Every match of an ASCII-lowercased term is a match
//! of its folded form, so confirming the folded matches loses none.
//!
//! Every term occurrence must be seen, even overlapping ones, so that a term failing the
//! whole-word check never hides another that passes (`Blue Sky` in `Blue Sky Harbors`
//! with the terms `Blue Sky` and `Sky Harbor`). An overlapping search over the whole
//! text cannot use the prefilter, so the fast leftmost-longest search finds where terms
//! are, and an overlapping search runs only over the window each hit opens.
//!
//! For a case-insensitive term with non-ASCII letters, its lowercase and uppercase forms
//! are added as extra patterns, so `Café`, `café` and `CAFÉ` all match; other
//! mixed-case spellings of non-ASCII letters wait for the Unicode normalisation step.

use aho_corasick::{AhoCorasick, MatchKind};

use super::triggers::fold_byte;
use super::{Candidate, Detector, Input, is_word_char};
use crate::scan::{ClassInfo, Classifier, ScanError};

/// One compiled classifier: what a match of its terms becomes.
#[derive(Debug)]
struct Compiled {
    info: ClassInfo,
    whole_word: bool,
    confidence: f32,
}

/// One set of patterns, compiled twice: leftmost-longest to find hits fast, standard
/// semantics to list every match around a hit. `owner[pattern]` is its classifier.
#[derive(Debug)]
struct Automaton {
    find: AhoCorasick,
    all: AhoCorasick,
    owner: Vec<usize>,
    longest: usize,
    /// For an automaton of folded terms (run on the folded text), each pattern's
    /// ASCII-lowercased term, which a match must equal once the text is lowercased; empty
    /// for a case-sensitive one.
    lowercase: Vec<Vec<u8>>,
}

impl Automaton {
    fn build(
        patterns: &[String],
        owner: Vec<usize>,
        lowercase: Vec<Vec<u8>>,
    ) -> Result<Self, ScanError> {
        let build = |kind| {
            AhoCorasick::builder()
                .match_kind(kind)
                .build(patterns)
                .map_err(|e| ScanError::Classifier {
                    source_name: "<all classifiers>".to_owned(),
                    message: format!("cannot compile the dictionary: {e}"),
                })
        };
        Ok(Automaton {
            find: build(MatchKind::LeftmostLongest)?,
            all: build(MatchKind::Standard)?,
            owner,
            longest: patterns.iter().map(String::len).max().unwrap_or(0),
            lowercase,
        })
    }

    /// Calls `each(pattern, start, end)` for every match in `hay`, overlapping ones
    /// included, each once.
    fn for_each_match(&self, hay: &[u8], mut each: impl FnMut(usize, usize, usize)) {
        let mut pos = 0;
        while pos < hay.len() {
            let Some(hit) = self.find.find(aho_corasick::Input::new(hay).range(pos..)) else {
                return;
            };
            // No match starts in pos..hit.start(); those starting in hit.start()..hit.end()
            // end before hit.end() + longest. Later ones are found by the next search.
            let window_end = hay.len().min(hit.end() + self.longest);
            let window = aho_corasick::Input::new(hay).range(hit.start()..window_end);
            for m in self.all.find_overlapping_iter(window) {
                if m.start() < hit.end() {
                    each(m.pattern().as_usize(), m.start(), m.end());
                }
            }
            pos = hit.end().max(pos + 1);
        }
    }
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
        let mut lowercase: Vec<Vec<u8>> = Vec::new();
        for (idx, c) in classifiers.iter().enumerate() {
            let (patterns, owner) = if c.case_sensitive() {
                &mut exact
            } else {
                &mut folded
            };
            for term in c.terms() {
                if c.case_sensitive() {
                    patterns.push(term.clone());
                    owner.push(idx);
                    continue;
                }
                // Matched folded, confirmed ASCII-lowercased.
                let mut forms: Vec<String> = vec![term.to_ascii_lowercase()];
                if !term.is_ascii() {
                    for variant in [term.to_lowercase(), term.to_uppercase()] {
                        let variant = variant.to_ascii_lowercase();
                        if !forms.contains(&variant) {
                            forms.push(variant);
                        }
                    }
                }
                for form in forms {
                    patterns.push(form.bytes().map(fold_byte).map(char::from).collect());
                    owner.push(idx);
                    lowercase.push(form.into_bytes());
                }
            }
        }
        let mut automata = Vec::new();
        for ((patterns, owner), lowercase) in [(exact, Vec::new()), (folded, lowercase)] {
            if !patterns.is_empty() {
                automata.push(Automaton::build(&patterns, owner, lowercase)?);
            }
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

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        for automaton in &self.automata {
            let folded = !automaton.lowercase.is_empty();
            let hay: &[u8] = if folded { input.folded() } else { input.bytes };
            automaton.for_each_match(hay, |pattern, start, end| {
                if folded
                    && !automaton.lowercase.get(pattern).is_some_and(|term| {
                        input
                            .bytes
                            .get(start..end)
                            .is_some_and(|text| text.eq_ignore_ascii_case(term))
                    })
                {
                    return;
                }
                let Some(c) = automaton
                    .owner
                    .get(pattern)
                    .and_then(|&i| self.classifiers.get(i))
                else {
                    return;
                };
                if c.whole_word && !whole_word(input, start, end) {
                    return;
                }
                out.extend(input.finding(&c.info, start, end, c.confidence));
            });
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
        let detector = DictionaryDetector::new(&[c])?;
        detector.detect(&Input::new(text), &mut out);
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
    fn punctuation_in_a_term_must_match_as_written() -> Result<(), ScanError> {
        // The folded text reads `R&D`, `R D` and `R-D` alike; only the first is the term.
        let c = classifier("", r#"["R&D Plan", "Café Noir"]"#)?;
        assert_eq!(
            spans(
                c,
                "r&d plan, R D Plan, R-D PLAN, R&D PLAN, café noir, CAFÉ NOIR, caf? noir"
            )?,
            ["r&d plan", "R&D PLAN", "café noir", "CAFÉ NOIR"]
        );
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn folded_matching_finds_what_a_lowercase_search_finds(
            text in "[a-cA-C &é-]{0,40}",
            terms in proptest::collection::vec("[a-cA-Cé&-]([a-cA-C &é-]{0,3}[a-cA-Cé&-])?", 1..5),
        ) {
            // A classifier holds each term once, case aside.
            let mut terms = terms;
            terms.sort_by_key(|t| t.to_lowercase());
            terms.dedup_by_key(|t| t.to_lowercase());
            let quoted: Vec<String> = terms.iter().map(|t| format!("{t:?}")).collect();
            let c = classifier("whole_word = false", &format!("[{}]", quoted.join(", ")))
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let got = spans(c, &text)
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            // Every occurrence of every term, ASCII case ignored (non-ASCII letters as
            // written, upper or lower).
            let mut expected = Vec::new();
            for term in &terms {
                for form in [term.to_lowercase(), term.to_uppercase()] {
                    let form = form.to_ascii_lowercase();
                    let lower = text.to_ascii_lowercase();
                    let mut at = 0;
                    while let Some(found) = lower.get(at..).and_then(|rest| rest.find(&form)) {
                        let start = at + found;
                        expected.push(text.get(start..start + form.len()).unwrap_or_default());
                        at = start + 1;
                        while !lower.is_char_boundary(at) {
                            at += 1;
                        }
                    }
                }
            }
            let mut got_sorted = got.clone();
            got_sorted.sort_unstable();
            got_sorted.dedup();
            expected.sort_unstable();
            expected.dedup();
            proptest::prop_assert_eq!(got_sorted, expected);
        }
    }

    #[test]
    fn a_failed_word_check_does_not_hide_an_overlapping_term() -> Result<(), ScanError> {
        let c = classifier("", r#"["Blue Sky", "Sky Harbor"]"#)?;
        assert_eq!(spans(c, "Blue Sky Harbors")?, ["Blue Sky"]);
        let c = classifier("", r#"["Blue", "Blue Sky"]"#)?;
        assert_eq!(
            spans(c, "Blue Skyline, blue sky")?,
            ["Blue", "blue", "blue sky"]
        );
        let c = classifier("", r#"["Sky Harbor", "Blue Sky Harbo"]"#)?;
        assert_eq!(spans(c, "Blue Sky Harbor")?, ["Sky Harbor"]);
        Ok(())
    }
}
