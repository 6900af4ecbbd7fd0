//! `customs policy fmt`: the Cedar formatter (`cedar-policy-formatter`, the version that
//! ships with the `cedar-policy` crate Customs evaluates with), so a policy repository
//! has one layout and reviews show only meaning. Annotations and comments are kept; the
//! formatter itself refuses output whose policies differ from the input's.

use cedar_policy_formatter::{Config, policies_str_to_pretty};

/// Line width of formatted policies.
pub const LINE_WIDTH: usize = 88;

/// Formats one Cedar file. The error is the formatter's message (a parse error, mostly).
pub fn format_cedar(text: &str) -> Result<String, String> {
    let config = Config {
        line_width: LINE_WIDTH,
        indent_width: 2,
    };
    policies_str_to_pretty(text, &config).map_err(|e| format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySource;

    #[test]
    fn keeps_annotations_and_comments() {
        let text =
            "// why\n@id(\"a\") @reason(\"r\")\npermit(principal,action,resource) when {1==1};\n";
        let out = format_cedar(text).unwrap();
        assert!(out.contains("// why"), "{out}");
        assert!(out.contains("@id(\"a\")"), "{out}");
        assert!(out.contains("@reason(\"r\")"), "{out}");
        assert_eq!(format_cedar(&out).unwrap(), out, "formatting is idempotent");
    }

    #[test]
    fn the_bundled_policies_are_formatted() {
        for file in PolicySource::bundled().policies {
            let formatted = format_cedar(&file.text).unwrap();
            assert_eq!(
                formatted, file.text,
                "{} is not formatted: run `customs policy fmt policies`",
                file.name
            );
        }
    }
}
