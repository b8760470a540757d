//! A small parser for the text exposition format, so tests can assert on
//! samples rather than on substrings.

use std::collections::BTreeMap;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Series name (with `_bucket`/`_sum`/`_count` suffix where present).
    pub name: String,
    /// Labels, unescaped.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// A parsed scrape.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// Samples in order.
    pub samples: Vec<Sample>,
    /// `# TYPE` per family.
    pub types: BTreeMap<String, String>,
    /// `# HELP` per family.
    pub help: BTreeMap<String, String>,
}

impl Scrape {
    /// Parses `text`; panics with the offending line on malformed input.
    pub fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE line");
                scrape.types.insert(name.to_owned(), kind.to_owned());
            } else if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
                scrape.help.insert(name.to_owned(), help.to_owned());
            } else if line.starts_with('#') || line.trim().is_empty() {
                continue;
            } else {
                scrape.samples.push(parse_sample(line));
            }
        }
        scrape
    }

    /// Samples whose name is `name` and whose labels include all of `labels`.
    pub fn find<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples
            .iter()
            .filter(move |s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
    }

    /// The single sample matching `name` and `labels`, or a panic listing
    /// what matched.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self.find(name, labels).collect();
        assert_eq!(
            found.len(),
            1,
            "expected one sample {name} {labels:?}, found {found:#?}"
        );
        found[0].value
    }

    /// Sum over the samples matching `name` and `labels` (0 if none).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels).map(|s| s.value).sum()
    }

    /// The family a sample name belongs to (strips histogram suffixes when
    /// the stripped name is a histogram family).
    pub fn family_of<'a>(&self, sample_name: &'a str) -> &'a str {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = sample_name.strip_suffix(suffix) {
                if self
                    .types
                    .get(base)
                    .is_some_and(|t| t == "histogram" || t == "summary")
                {
                    return base;
                }
            }
        }
        sample_name
    }
}

fn parse_sample(line: &str) -> Sample {
    let (series, value) = line
        .rsplit_once(' ')
        .unwrap_or_else(|| panic!("sample line without value: {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v
            .parse()
            .unwrap_or_else(|e| panic!("bad value in {line}: {e}")),
    };
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (
            name,
            parse_labels(
                rest.strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}")),
            ),
        ),
        None => (series, BTreeMap::new()),
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

fn parse_labels(mut s: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    while !s.is_empty() {
        let (name, rest) = s
            .split_once("=\"")
            .unwrap_or_else(|| panic!("bad label set: {s}"));
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => value.push(other),
                    None => panic!("dangling escape in {rest}"),
                },
                '"' => {
                    end = Some(i);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = end.unwrap_or_else(|| panic!("unterminated label value in {rest}"));
        assert!(
            labels
                .insert(name.trim_start_matches(',').to_owned(), value)
                .is_none(),
            "label {name} twice"
        );
        s = rest[end + 1..].trim_start_matches(',');
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_escaped_labels() {
        let s = Scrape::parse("# TYPE a counter\na{x=\"q\\\"\\n\",y=\"z\"} 2\nb 1.5\n");
        assert_eq!(s.value("a", &[("x", "q\"\n")]), 2.0);
        assert_eq!(s.value("b", &[]), 1.5);
    }
}
