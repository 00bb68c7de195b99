//! The official tool's remote addresses: `b2://BUCKET[/PATH]` and `b2id://FILE_ID`.

/// A remote address given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum B2Uri {
    /// `b2://BUCKET[/PATH]`: a file name, a folder (a path ending in `/`), or the bucket.
    Name {
        /// Bucket name.
        bucket: String,
        /// Everything after the bucket and its `/` (may be empty).
        path: String,
    },
    /// `b2id://FILE_ID`: one file version.
    Id(String),
}

/// Whether `s` is written as a URI (`b2://` or `b2id://`) rather than a bucket name.
pub fn is_uri(s: &str) -> bool {
    s.starts_with("b2://") || s.starts_with("b2id://")
}

/// Parses `b2://BUCKET[/PATH]` or `b2id://FILE_ID`; the error says what was expected.
pub fn parse(s: &str) -> Result<B2Uri, String> {
    if let Some(rest) = s.strip_prefix("b2://") {
        let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!(
                "{s:?} names no bucket: expected b2://BUCKET[/PATH]"
            ));
        }
        return Ok(B2Uri::Name {
            bucket: bucket.to_owned(),
            path: path.to_owned(),
        });
    }
    if let Some(id) = s.strip_prefix("b2id://") {
        if id.is_empty() || id.contains('/') {
            return Err(format!("{s:?} is not a file id: expected b2id://FILE_ID"));
        }
        return Ok(B2Uri::Id(id.to_owned()));
    }
    Err(format!(
        "{s:?} is not a B2 URI: expected b2://BUCKET/NAME or b2id://FILE_ID"
    ))
}

/// The target of a command that takes either `BUCKET NAME` (this tool's short form) or one
/// URI (the official tool's form): `first` and `second` are the two positional arguments.
pub fn file_target(first: &str, second: Option<&str>) -> Result<B2Uri, String> {
    if is_uri(first) {
        if let Some(extra) = second {
            return Err(format!(
                "unexpected argument {extra:?} after the URI {first:?}"
            ));
        }
        let u = parse(first)?;
        if let B2Uri::Name { path, .. } = &u {
            if path.is_empty() {
                return Err(format!(
                    "{first:?} names no file: expected b2://BUCKET/NAME"
                ));
            }
        }
        return Ok(u);
    }
    match second {
        Some(name) => Ok(B2Uri::Name {
            bucket: first.to_owned(),
            path: name.to_owned(),
        }),
        None => Err(format!(
            "expected BUCKET NAME, b2://BUCKET/NAME or b2id://FILE_ID, got only {first:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(
            parse("b2://bkt/a/b c.txt"),
            Ok(B2Uri::Name {
                bucket: "bkt".into(),
                path: "a/b c.txt".into()
            })
        );
        assert_eq!(
            parse("b2://bkt"),
            Ok(B2Uri::Name {
                bucket: "bkt".into(),
                path: String::new()
            })
        );
        assert_eq!(parse("b2id://4_z1"), Ok(B2Uri::Id("4_z1".into())));
        for bad in [
            "b2://",
            "b2:///x",
            "b2id://",
            "b2id://a/b",
            "s3://x/y",
            "bkt",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(file_target("b2://bkt/", None).is_err());
        assert!(file_target("b2://bkt/x", Some("y")).is_err());
        assert!(file_target("bkt", None).is_err());
        assert_eq!(
            file_target("bkt", Some("x")),
            Ok(B2Uri::Name {
                bucket: "bkt".into(),
                path: "x".into()
            })
        );
    }
}
