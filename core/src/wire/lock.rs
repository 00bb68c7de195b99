//! Object Lock: retention (governance or compliance, until a time) and legal hold, as
//! upload headers, as `b2_start_large_file` JSON, and the calls `b2_update_file_retention`
//! and `b2_update_file_legal_hold`.
//!
//! B2's rules (its "Object Lock" page): compliance retention can be extended but never
//! shortened or removed; governance retention can be shortened or removed only with the
//! `bypassGovernance` capability and flag; a legal hold blocks deletion until it is off.

use super::json::{each_field, required, JsonWriter, Text, Value};
use super::{Answer, ApiCall};
use crate::error::{BadAnswer, Error};
use crate::op::head::HeadWriter;

/// Retention mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RetentionMode {
    /// Can be shortened or removed by a key with `bypassGovernance` that asks to.
    Governance,
    /// Can only be extended, by anyone.
    Compliance,
}

impl RetentionMode {
    /// B2's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "governance",
            RetentionMode::Compliance => "compliance",
        }
    }

    /// Reads B2's word; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "governance" => Some(RetentionMode::Governance),
            "compliance" => Some(RetentionMode::Compliance),
            _ => None,
        }
    }
}

/// A file's retention: mode and the time it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Retention {
    /// Mode.
    pub mode: RetentionMode,
    /// End of retention, milliseconds since the epoch.
    pub retain_until_ms: u64,
}

impl Retention {
    /// Upload headers `X-Bz-File-Retention-Mode` and `-Retain-Until-Timestamp`.
    pub(crate) fn headers(&self, w: &mut HeadWriter<'_>) {
        w.header(
            "X-Bz-File-Retention-Mode",
            format_args!("{}", self.mode.as_str()),
        );
        w.header(
            "X-Bz-File-Retention-Retain-Until-Timestamp",
            format_args!("{}", self.retain_until_ms),
        );
    }

    /// Writes `"field": {"mode": .., "retainUntilTimestamp": ..}` (`None`: both null, which
    /// removes a governance retention).
    pub(crate) fn write_json(r: Option<&Retention>, w: &mut JsonWriter<'_>, field: &str) {
        let mut s: heapless::String<80> = heapless::String::new();
        let _ = match r {
            Some(r) => core::fmt::write(
                &mut s,
                format_args!(
                    r#"{{"mode":"{}","retainUntilTimestamp":{}}}"#,
                    r.mode.as_str(),
                    r.retain_until_ms
                ),
            ),
            None => core::fmt::write(
                &mut s,
                format_args!(r#"{{"mode":null,"retainUntilTimestamp":null}}"#),
            ),
        };
        w.opt_raw(field, Some(s.as_str()));
    }

    /// Reads `{"mode", "retainUntilTimestamp"}`: `Ok(None)` when the mode is null (no
    /// retention); an unknown mode or a mode without a time is [`BadAnswer::Json`].
    pub fn parse(object: &[u8]) -> Result<Option<Self>, BadAnswer> {
        let (mut mode, mut until) = (None, None);
        let mut mode_text = false;
        each_field(object, |k, v| {
            match k.raw() {
                "mode" => {
                    if let Some(t) = v.opt_text()? {
                        mode_text = true;
                        mode = RetentionMode::parse(t.raw());
                    }
                }
                "retainUntilTimestamp" => until = v.opt_u64()?,
                _ => {}
            }
            Ok(())
        })?;
        match (mode_text, mode, until) {
            (false, _, _) => Ok(None),
            (true, Some(mode), Some(retain_until_ms)) => Ok(Some(Retention {
                mode,
                retain_until_ms,
            })),
            _ => Err(BadAnswer::Json),
        }
    }
}

/// Legal hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LegalHold {
    /// The file cannot be deleted.
    On,
    /// No hold.
    Off,
}

impl LegalHold {
    /// B2's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            LegalHold::On => "on",
            LegalHold::Off => "off",
        }
    }

    /// Reads B2's word; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "on" => Some(LegalHold::On),
            "off" => Some(LegalHold::Off),
            _ => None,
        }
    }

    /// Upload header `X-Bz-File-Legal-Hold`.
    pub(crate) fn header(&self, w: &mut HeadWriter<'_>) {
        w.header("X-Bz-File-Legal-Hold", format_args!("{}", self.as_str()));
    }
}

/// `b2_update_file_retention`: sets, extends, shortens or (with `None`) removes a file
/// version's retention. Shortening or removing governance needs `bypass_governance` and the
/// key's `bypassGovernance` capability; compliance can only be extended.
#[derive(Clone, Copy, Debug)]
pub struct UpdateFileRetention<'a> {
    /// The version's name.
    pub file_name: &'a str,
    /// The version's id.
    pub file_id: &'a str,
    /// The new retention (`None`: remove it).
    pub retention: Option<Retention>,
    /// Allow shortening or removing a governance retention.
    pub bypass_governance: bool,
}

impl ApiCall for UpdateFileRetention<'_> {
    const NAME: &'static str = "b2_update_file_retention";
    type Answer<'a> = RetentionAnswer<'a>;
    fn write_body(&self, _account_id: &str, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = JsonWriter::new(out);
        w.str("fileName", self.file_name)
            .str("fileId", self.file_id);
        Retention::write_json(self.retention.as_ref(), &mut w, "fileRetention");
        w.opt_bool("bypassGovernance", self.bypass_governance.then_some(true));
        w.finish()
    }
}

/// `b2_update_file_legal_hold`.
#[derive(Clone, Copy, Debug)]
pub struct UpdateFileLegalHold<'a> {
    /// The version's name.
    pub file_name: &'a str,
    /// The version's id.
    pub file_id: &'a str,
    /// On or off.
    pub legal_hold: LegalHold,
}

impl ApiCall for UpdateFileLegalHold<'_> {
    const NAME: &'static str = "b2_update_file_legal_hold";
    type Answer<'a> = LegalHoldAnswer<'a>;
    fn write_body(&self, _account_id: &str, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = JsonWriter::new(out);
        w.str("fileName", self.file_name)
            .str("fileId", self.file_id)
            .str("legalHold", self.legal_hold.as_str());
        w.finish()
    }
}

/// Answer of `b2_update_file_retention`: `{fileId, fileName, fileRetention}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionAnswer<'a> {
    /// Version id.
    pub file_id: Text<'a>,
    /// Name.
    pub file_name: Text<'a>,
    /// The retention now in force (`None`: none).
    pub retention: Option<Retention>,
}

impl<'a> Answer<'a> for RetentionAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut id, mut name, mut retention) = (None, None, None);
        each_field(body, |k, v: Value<'a>| {
            match k.raw() {
                "fileId" => id = Some(v.text()?),
                "fileName" => name = Some(v.text()?),
                "fileRetention" => {
                    retention = match v.opt_object()? {
                        Some(o) => Retention::parse(o)?,
                        None => None,
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(RetentionAnswer {
            file_id: required(id)?,
            file_name: required(name)?,
            retention,
        })
    }
}

/// Answer of `b2_update_file_legal_hold`: `{fileId, fileName, legalHold}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegalHoldAnswer<'a> {
    /// Version id.
    pub file_id: Text<'a>,
    /// Name.
    pub file_name: Text<'a>,
    /// The hold now in force (`None`: B2 sent null).
    pub legal_hold: Option<LegalHold>,
}

impl<'a> Answer<'a> for LegalHoldAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut id, mut name, mut hold) = (None, None, None);
        each_field(body, |k, v: Value<'a>| {
            match k.raw() {
                "fileId" => id = Some(v.text()?),
                "fileName" => name = Some(v.text()?),
                "legalHold" => {
                    hold = match v.opt_text()? {
                        Some(t) => Some(LegalHold::parse(t.raw()).ok_or(BadAnswer::Json)?),
                        None => None,
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(LegalHoldAnswer {
            file_id: required(id)?,
            file_name: required(name)?,
            legal_hold: hold,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bodies() {
        let mut buf = [0u8; 256];
        let call = UpdateFileRetention {
            file_name: "a",
            file_id: "f",
            retention: Some(Retention {
                mode: RetentionMode::Governance,
                retain_until_ms: 1_800_000_000_000,
            }),
            bypass_governance: true,
        };
        let n = call.write_body("acc", &mut buf).expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"fileName":"a","fileId":"f","fileRetention":{"mode":"governance","retainUntilTimestamp":1800000000000},"bypassGovernance":true}"#
        );
        let clear = UpdateFileRetention {
            retention: None,
            bypass_governance: false,
            ..call
        };
        let n = clear.write_body("acc", &mut buf).expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"fileName":"a","fileId":"f","fileRetention":{"mode":null,"retainUntilTimestamp":null}}"#
        );
        let hold = UpdateFileLegalHold {
            file_name: "a",
            file_id: "f",
            legal_hold: LegalHold::On,
        };
        let n = hold.write_body("acc", &mut buf).expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"fileName":"a","fileId":"f","legalHold":"on"}"#
        );
    }

    #[test]
    fn answers() {
        let a = RetentionAnswer::parse(
            br#"{"fileId":"f","fileName":"a","fileRetention":{"mode":"compliance","retainUntilTimestamp":5}}"#,
        )
        .expect("answer");
        assert_eq!(
            a.retention,
            Some(Retention {
                mode: RetentionMode::Compliance,
                retain_until_ms: 5
            })
        );
        let none = RetentionAnswer::parse(
            br#"{"fileId":"f","fileName":"a","fileRetention":{"mode":null,"retainUntilTimestamp":null}}"#,
        )
        .expect("answer");
        assert_eq!(none.retention, None);
        assert_eq!(
            RetentionAnswer::parse(
                br#"{"fileId":"f","fileName":"a","fileRetention":{"mode":"forever","retainUntilTimestamp":5}}"#
            ),
            Err(BadAnswer::Json)
        );
        assert_eq!(
            RetentionAnswer::parse(
                br#"{"fileId":"f","fileName":"a","fileRetention":{"mode":"governance"}}"#
            ),
            Err(BadAnswer::Json)
        );
        let h = LegalHoldAnswer::parse(br#"{"fileId":"f","fileName":"a","legalHold":"off"}"#)
            .expect("answer");
        assert_eq!(h.legal_hold, Some(LegalHold::Off));
        assert_eq!(
            LegalHoldAnswer::parse(br#"{"fileId":"f","fileName":"a","legalHold":"maybe"}"#),
            Err(BadAnswer::Json)
        );
        assert_eq!(
            LegalHoldAnswer::parse(br#"{"fileName":"a","legalHold":"on"}"#),
            Err(BadAnswer::Json)
        );
    }

    proptest! {
        #[test]
        fn retention_round_trips(until in any::<u64>(), compliance in any::<bool>()) {
            let r = Retention {
                mode: if compliance { RetentionMode::Compliance } else { RetentionMode::Governance },
                retain_until_ms: until,
            };
            let mut buf = [0u8; 256];
            let call = UpdateFileRetention { file_name: "n", file_id: "i", retention: Some(r), bypass_governance: false };
            let n = call.write_body("a", &mut buf).expect("body");
            let body = std::str::from_utf8(&buf[..n]).expect("utf8");
            let answer = body.replace(r#""fileName":"n","fileId":"i""#, r#""fileId":"i","fileName":"n""#);
            let a = RetentionAnswer::parse(answer.as_bytes()).expect("parse");
            prop_assert_eq!(a.retention, Some(r));
        }

        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = RetentionAnswer::parse(&b);
            let _ = LegalHoldAnswer::parse(&b);
            let _ = Retention::parse(&b);
        }
    }
}
