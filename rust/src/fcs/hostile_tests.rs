//! Regression tests for hostile inputs: each was a panic, an unbounded
//! allocation or a super-linear loop before it was fixed.

use super::*;

/// HEADER + TEXT (`|`-delimited, offsets in TEXT) + DATA, like tests/fcsbuild.py.
fn build(version: &str, keywords: &[(&str, String)], data: &[u8]) -> Vec<u8> {
    let text_for = |ds: usize| {
        let de = (ds + data.len()).saturating_sub(1);
        let mut t = b"|".to_vec();
        let all = [("$BEGINDATA", ds.to_string()), ("$ENDDATA", de.to_string())];
        for (k, v) in all
            .iter()
            .map(|(k, v)| (*k, v))
            .chain(keywords.iter().map(|(k, v)| (*k, v)))
        {
            t.extend_from_slice(format!("{k}|{v}|").as_bytes());
        }
        t
    };
    let mut ds = 0;
    for _ in 0..5 {
        ds = 58 + text_for(ds).len();
    }
    let text = text_for(ds);
    let te = 58 + text.len() - 1;
    let mut out = format!(
        "{version:<10}{:>8}{te:>8}{:>8}{:>8}{:>8}{:>8}",
        58, 0, 0, 0, 0
    )
    .into_bytes();
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

fn ints(n_par: usize, tot: &str, bits: &str) -> Vec<(&'static str, String)> {
    let mut kw = vec![
        ("$PAR", n_par.to_string()),
        ("$TOT", tot.to_string()),
        ("$DATATYPE", "I".to_string()),
        ("$BYTEORD", "1,2,3,4".to_string()),
    ];
    for i in 1..=n_par {
        kw.push((
            Box::leak(format!("$P{i}B").into_boxed_str()),
            bits.to_string(),
        ));
        kw.push((
            Box::leak(format!("$P{i}N").into_boxed_str()),
            format!("C{i}"),
        ));
    }
    kw
}

#[test]
fn end_offset_of_u64_max_is_an_error_not_an_overflow() {
    let mut kw = ints(1, "2", "8");
    kw.retain(|(k, _)| *k != "$TOT");
    let mut blob = build("FCS3.1", &kw, &[1, 2]);
    let s = String::from_utf8_lossy(&blob).into_owned();
    let end = s.find("$ENDDATA|").unwrap() + 9;
    let stop = end + s[end..].find('|').unwrap();
    blob.splice(end..stop, b"18446744073709551615".iter().copied());
    // With $BEGINDATA at 0 the declared size is u64::MAX + 1.
    let s = String::from_utf8_lossy(&blob).into_owned();
    let begin = s.find("$BEGINDATA|").unwrap() + 11;
    let stop = begin + s[begin..].find('|').unwrap();
    blob.splice(begin..stop, b"0".iter().copied());
    let r = read_bytes(&blob, &ReadOptions::default());
    assert!(r.is_ok() || matches!(r, Err(Error::Fcs { .. })), "{r:?}");
}

#[test]
fn delimited_ascii_tot_cannot_size_the_output() {
    let kw = vec![
        ("$PAR", "2".to_string()),
        ("$TOT", "1000000000000000".to_string()),
        ("$DATATYPE", "A".to_string()),
        ("$P1B", "*".to_string()),
        ("$P2B", "*".to_string()),
        ("$P1N", "A".to_string()),
        ("$P2N", "B".to_string()),
    ];
    let blob = build("FCS3.1", &kw, b"1 2 3 4");
    let err = read_bytes(&blob, &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("too few"), "{err}");
    let mut ok = kw.clone();
    ok[1].1 = "2".into();
    let ds = read_bytes(&build("FCS3.1", &ok, b"1 2 3 4"), &ReadOptions::default()).unwrap();
    assert_eq!(ds.n_events, 2);
}

#[test]
fn many_channels_with_one_name_are_renamed_in_linear_time() {
    let n = 20_000;
    let mut kw = ints(n, "1", "8");
    for (k, v) in kw.iter_mut() {
        if k.ends_with('N') && k.starts_with("$P") {
            *v = "A".into();
        }
    }
    // One channel is already called what the second "A" would become.
    if let Some(p) = kw.iter_mut().find(|(k, _)| *k == "$P5N") {
        p.1 = "A_2".into();
    }
    let start = std::time::Instant::now();
    let ds = read_bytes(
        &build("FCS3.1", &kw, &vec![0u8; n]),
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
    let names: std::collections::HashSet<_> = ds.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), n);
    assert_eq!(ds.channels[1].name, "A_3");
    assert_eq!(ds.channels[4].name, "A_2");
}

#[test]
fn chained_data_sets_whose_text_spans_the_file_stop_early() {
    // Identical data sets chained by $NEXTDATA, each HEADER claiming a TEXT that
    // runs to the end of the file: following the chain would tokenize the file
    // once per data set.
    let one = |next: usize| {
        let mut kw = ints(1, "1", "8");
        kw.push(("$NEXTDATA", format!("{next:08}")));
        build("FCS3.0", &kw, &[7])
    };
    let size = one(0).len();
    let n = 2_000;
    let mut blob = one(size).repeat(n);
    let len = blob.len();
    for i in 0..n {
        let te = len - i * size - 1;
        blob[i * size + 18..i * size + 26].copy_from_slice(format!("{te:>8}").as_bytes());
    }
    let start = std::time::Instant::now();
    let err = dataset_offsets(&blob, false).unwrap_err();
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
    assert!(err.to_string().contains("overlaps"), "{err}");
}

#[test]
fn zero_events_with_backwards_offsets_read_empty() {
    let mut kw = ints(1, "0", "8");
    kw.push(("$FIL", "x".into()));
    let mut blob = build("FCS3.1", &kw, &[]);
    // HEADER DATA offsets backwards; TEXT ones too ($ENDDATA < $BEGINDATA for no data).
    blob[26..42].copy_from_slice(b"     200     100");
    let ds = read_bytes(&blob, &ReadOptions::default()).unwrap();
    assert_eq!(ds.n_events, 0);
}
