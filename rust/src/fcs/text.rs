//! The TEXT segment: delimiter-separated keyword/value pairs.
//!
//! A doubled delimiter is ambiguous in real files: the standard uses it to escape
//! a delimiter inside a keyword or value, but FCS 2.0 writers (CELLQuest among
//! them) also use it for an *empty value*. We resolve it by position: inside a
//! value a doubled delimiter is an escaped delimiter; right after a keyword it
//! ends the keyword with an empty value. Keywords never contain the delimiter in
//! practice, and values are where escapes occur, so both kinds of file parse.

use std::collections::HashMap;

use super::Repair;

/// The keywords of a data set, in file order, looked up case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct Keywords {
    pairs: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Keywords {
    pub fn new() -> Self {
        Self::default()
    }

    /// Case-insensitive lookup.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.index
            .get(&key.to_ascii_uppercase())
            .and_then(|&i| self.pairs.get(i))
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(&key.to_ascii_uppercase())
    }

    /// Insert a pair; returns the existing value when the keyword is already present
    /// (in which case nothing changes).
    pub fn insert_new(&mut self, key: String, value: String) -> Option<&str> {
        let upper = key.to_ascii_uppercase();
        if let Some(&i) = self.index.get(&upper) {
            return self.pairs.get(i).map(|(_, v)| v.as_str());
        }
        self.index.insert(upper, self.pairs.len());
        self.pairs.push((key, value));
        None
    }

    /// Insert or replace, keeping the original position when replacing.
    pub fn set(&mut self, key: &str, value: String) {
        let upper = key.to_ascii_uppercase();
        match self.index.get(&upper) {
            Some(&i) => {
                if let Some(p) = self.pairs.get_mut(i) {
                    p.1 = value;
                }
            }
            None => {
                self.index.insert(upper, self.pairs.len());
                self.pairs.push((key.to_string(), value));
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let upper = key.to_ascii_uppercase();
        let i = self.index.remove(&upper)?;
        let (_, v) = self.pairs.remove(i);
        for idx in self.index.values_mut() {
            if *idx > i {
                *idx -= 1;
            }
        }
        Some(v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// How the TEXT bytes were decoded into strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Latin1,
}

/// Split a TEXT segment (starting with its delimiter) into raw keyword/value byte pairs.
/// `origin` is the absolute file offset of `seg[0]`, used in repair messages.
pub fn tokenize(seg: &[u8], origin: u64, repairs: &mut Vec<Repair>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut pairs = Vec::new();
    let Some((&delim, body)) = seg.split_first() else {
        return pairs;
    };
    let mut i = 0usize;
    let mut key: Option<Vec<u8>> = None;
    let mut cur: Vec<u8> = Vec::new();
    while let Some(&b) = body.get(i) {
        if b != delim {
            cur.push(b);
            i += 1;
            continue;
        }
        let doubled = body.get(i + 1) == Some(&delim);
        match (&key, doubled) {
            // Inside a value: an escaped delimiter.
            (Some(_), true) => {
                cur.push(delim);
                i += 2;
            }
            // Right after a keyword: the keyword has an empty value.
            (None, true) => {
                let k = std::mem::take(&mut cur);
                pairs.push((k, Vec::new()));
                i += 2;
            }
            (None, false) => {
                key = Some(std::mem::take(&mut cur));
                i += 1;
            }
            (Some(_), false) => {
                if let Some(k) = key.take() {
                    pairs.push((k, std::mem::take(&mut cur)));
                }
                i += 1;
            }
        }
    }
    match key {
        Some(k) => {
            // The final value was not followed by a delimiter.
            repairs.push(Repair::new(
                "text_unterminated",
                format!(
                    "TEXT segment at byte {origin} does not end with its delimiter; \
                     took the last value up to the end of the segment"
                ),
            ));
            pairs.push((k, cur));
        }
        None if !cur.is_empty() && !cur.iter().all(|b| b.is_ascii_whitespace() || *b == 0) => {
            repairs.push(Repair::new(
                "text_dangling_keyword",
                format!(
                    "TEXT segment at byte {origin} ends with keyword {:?} that has no value; ignored it",
                    String::from_utf8_lossy(&cur)
                ),
            ));
        }
        _ => {}
    }
    pairs
}

/// Decode raw pairs, as UTF-8 when all of TEXT is valid UTF-8, else as latin-1.
pub fn decode_pairs(raw: Vec<(Vec<u8>, Vec<u8>)>) -> (Vec<(String, String)>, TextEncoding) {
    let all_utf8 = raw
        .iter()
        .all(|(k, v)| std::str::from_utf8(k).is_ok() && std::str::from_utf8(v).is_ok());
    let dec = |b: Vec<u8>| -> String {
        if all_utf8 {
            String::from_utf8(b).unwrap_or_default()
        } else {
            b.into_iter().map(char::from).collect()
        }
    };
    let pairs = raw.into_iter().map(|(k, v)| (dec(k), dec(v))).collect();
    let enc = if all_utf8 {
        TextEncoding::Utf8
    } else {
        TextEncoding::Latin1
    };
    (pairs, enc)
}

/// Escape a keyword or value for writing: double every delimiter.
pub fn escape(s: &str, delim: u8, out: &mut Vec<u8>) {
    for &b in s.as_bytes() {
        out.push(b);
        if b == delim {
            out.push(b);
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn tok(s: &[u8]) -> Vec<(String, String)> {
        let mut r = Vec::new();
        let raw = tokenize(s, 0, &mut r);
        decode_pairs(raw).0
    }

    #[test]
    fn plain() {
        assert_eq!(
            tok(b"/$PAR/2/$TOT/10/"),
            vec![("$PAR".into(), "2".into()), ("$TOT".into(), "10".into())]
        );
    }

    #[test]
    fn escaped_delimiter_in_value() {
        assert_eq!(
            tok(b"/$FIL/a//b.fcs/$TOT/1/"),
            vec![
                ("$FIL".into(), "a/b.fcs".into()),
                ("$TOT".into(), "1".into())
            ]
        );
    }

    #[test]
    fn empty_value_after_keyword() {
        assert_eq!(
            tok(b"\\A\\1\\&5PREFIX\\\\&6NEXT\\x\\"),
            vec![
                ("A".into(), "1".into()),
                ("&5PREFIX".into(), "".into()),
                ("&6NEXT".into(), "x".into())
            ]
        );
    }

    #[test]
    fn unterminated() {
        let mut r = Vec::new();
        let raw = tokenize(b"|A|1|B|2", 0, &mut r);
        assert_eq!(raw.len(), 2);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn latin1_fallback() {
        let (p, e) = decode_pairs(vec![(b"K".to_vec(), vec![0xaa])]);
        assert_eq!(e, TextEncoding::Latin1);
        assert_eq!(p[0].1, "\u{aa}");
    }

    #[test]
    fn keywords_case_insensitive() {
        let mut k = Keywords::new();
        k.insert_new("$P1n".into(), "FSC".into());
        assert_eq!(k.get("$P1N"), Some("FSC"));
        assert!(k.insert_new("$p1N".into(), "x".into()).is_some());
        k.set("$P1N", "SSC".into());
        assert_eq!(k.get("$p1n"), Some("SSC"));
        assert_eq!(k.remove("$P1N"), Some("SSC".into()));
        assert!(k.is_empty());
    }
}
