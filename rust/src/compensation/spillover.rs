//! Spillover matrices as instruments store them in FCS keywords.

use crate::error::{Error, Result};
use crate::fcs::text::Keywords;

/// A spillover matrix: row i is how much of detector i's own signal appears in
/// each detector (rows sum to the detectors' spill; the diagonal is usually 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Spillover {
    pub detectors: Vec<String>,
    /// Row-major n × n.
    pub matrix: Vec<f64>,
    /// The keyword it came from (`$SPILLOVER`, `SPILL`, ...), if any.
    pub source: Option<String>,
}

/// Keywords that hold a spillover matrix, most authoritative first.
pub const SPILL_KEYWORDS: [&str; 5] = ["$SPILLOVER", "SPILL", "$SPILL", "DET_SPILL", "$COMP"];

/// Parse the standard `n,name1,...,namen,m11,m12,...,mnn` form.
pub fn parse_spill_value(value: &str) -> Result<Spillover> {
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let n: usize = parts.first().and_then(|s| s.parse().ok()).ok_or_else(|| {
        Error::Compensation(format!(
            "spillover does not start with a count: {:?}",
            truncate(value)
        ))
    })?;
    if n == 0 {
        return Err(Error::Compensation("spillover declares 0 detectors".into()));
    }
    let needed = n
        .checked_mul(n)
        .and_then(|nn| nn.checked_add(n + 1))
        .ok_or_else(|| Error::Compensation(format!("spillover size {n} is absurd")))?;
    // Tolerate a trailing empty field (a trailing comma).
    let used: Vec<&str> = parts.iter().copied().filter(|s| !s.is_empty()).collect();
    if used.len() != needed {
        return Err(Error::Compensation(format!(
            "spillover declares {n} detectors, so {needed} fields, but has {}",
            used.len()
        )));
    }
    let detectors: Vec<String> = used[1..=n].iter().map(|s| s.to_string()).collect();
    let mut matrix = Vec::with_capacity(n * n);
    for s in &used[n + 1..] {
        let v: f64 = s
            .parse()
            .map_err(|_| Error::Compensation(format!("spillover value {s:?} is not a number")))?;
        if !v.is_finite() {
            return Err(Error::Compensation(format!(
                "spillover value {s:?} is not finite"
            )));
        }
        matrix.push(v);
    }
    Ok(Spillover {
        detectors,
        matrix,
        source: None,
    })
}

/// `n` followed by exactly n² numbers (the FCS 3.0 `$COMP` form, no names).
fn is_nameless_matrix(v: &str) -> bool {
    let parts: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match parts.first().and_then(|s| s.parse::<usize>().ok()) {
        Some(n) => {
            n.checked_mul(n).map(|nn| nn + 1) == Some(parts.len())
                && parts[1..].iter().all(|s| s.parse::<f64>().is_ok())
        }
        None => false,
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The first spillover keyword present, parsed. `Ok(None)` when there is none.
pub fn spillover_from_keywords(kw: &Keywords) -> Result<Option<Spillover>> {
    for key in SPILL_KEYWORDS {
        if let Some(v) = kw.get(key) {
            if v.trim().is_empty() {
                continue;
            }
            if key == "$COMP" && is_nameless_matrix(v) {
                return Err(Error::Compensation(
                    "$COMP holds a matrix without detector names; FCS 3.0 leaves its \
                     orientation and channel mapping open, so it is not guessed — \
                     give the spillover matrix explicitly"
                        .into(),
                ));
            }
            let mut s = parse_spill_value(v).map_err(|e| match e {
                Error::Compensation(m) => Error::Compensation(format!("{key}: {m}")),
                other => other,
            })?;
            s.source = Some(key.to_string());
            return Ok(Some(s));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let s = parse_spill_value("2,FL1-A,FL2-A,1,0.1,0.02,1").unwrap();
        assert_eq!(s.detectors, vec!["FL1-A", "FL2-A"]);
        assert_eq!(s.matrix, vec![1.0, 0.1, 0.02, 1.0]);
        assert!(parse_spill_value("2,A,B,1,0,0").is_err());
        assert!(parse_spill_value("x").is_err());
        assert!(parse_spill_value("99999999999999,A").is_err());
        assert!(parse_spill_value("1,A,nan").is_err());
        assert!(parse_spill_value("1,A,1,").is_ok());
    }

    #[test]
    fn nameless_comp_is_refused_not_guessed() {
        let mut kw = Keywords::new();
        kw.insert_new("$COMP".into(), "2,1,0.1,0.2,1".into());
        let e = spillover_from_keywords(&kw).unwrap_err().to_string();
        assert!(e.contains("without detector names"), "{e}");
        let mut kw = Keywords::new();
        kw.insert_new("$COMP".into(), "1,FL1,1".into());
        assert!(spillover_from_keywords(&kw).unwrap().is_some());
    }
}
