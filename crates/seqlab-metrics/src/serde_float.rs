//! Serde helpers that let non-finite `f64` values survive JSON.
//!
//! `serde_json` writes `inf` and `NaN` as `null`, which does not read back as
//! a number. These helpers write finite values as ordinary numbers and the
//! non-finite ones as the strings `"inf"`, `"-inf"` and `"nan"` (the spelling
//! Python's `float()` and numpy accept). Reading accepts numbers and those
//! strings (case-insensitive, also `"+inf"`, `"infinity"`, `"-infinity"`).
//!
//! Because reading must accept a number or a string, deserialisation uses
//! `deserialize_any` and so needs a self-describing format (JSON, YAML, TOML,
//! CBOR, MessagePack...), not bincode.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An `f64` that (de)serialises its non-finite values as strings.
#[derive(Debug, Clone, Copy)]
struct ExtF64(f64);

impl Serialize for ExtF64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_finite() {
            serializer.serialize_f64(v)
        } else if v.is_nan() {
            serializer.serialize_str("nan")
        } else if v > 0.0 {
            serializer.serialize_str("inf")
        } else {
            serializer.serialize_str("-inf")
        }
    }
}

struct ExtF64Visitor;

impl Visitor<'_> for ExtF64Visitor {
    type Value = ExtF64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a number or one of the strings "inf", "-inf", "nan""#)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ExtF64, E> {
        Ok(ExtF64(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ExtF64, E> {
        Ok(ExtF64(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ExtF64, E> {
        Ok(ExtF64(v as f64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ExtF64, E> {
        match v.to_ascii_lowercase().as_str() {
            "inf" | "+inf" | "infinity" | "+infinity" => Ok(ExtF64(f64::INFINITY)),
            "-inf" | "-infinity" => Ok(ExtF64(f64::NEG_INFINITY)),
            "nan" => Ok(ExtF64(f64::NAN)),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

impl<'de> Deserialize<'de> for ExtF64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExtF64Visitor)
    }
}

/// `#[serde(with = "crate::serde_float::scalar")]` for an `f64` field.
pub(crate) mod scalar {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        ExtF64(*v).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        ExtF64::deserialize(deserializer).map(|x| x.0)
    }
}

/// `#[serde(with = "crate::serde_float::vec")]` for a `Vec<f64>` field.
pub(crate) mod vec {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(v.iter().map(|&x| ExtF64(x)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<f64>, D::Error> {
        let values = Vec::<ExtF64>::deserialize(deserializer)?;
        Ok(values.into_iter().map(|x| x.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Probe {
        #[serde(with = "super::vec")]
        v: Vec<f64>,
        #[serde(with = "super::scalar")]
        s: f64,
    }

    #[test]
    fn non_finite_values_round_trip_as_strings() {
        let p = Probe {
            v: vec![f64::INFINITY, 0.5, -2.0, f64::NEG_INFINITY, f64::NAN],
            s: f64::INFINITY,
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"v":["inf",0.5,-2.0,"-inf","nan"],"s":"inf"}"#);
        let back: Probe = serde_json::from_str(&json).unwrap();
        assert_eq!(back.v[..4], p.v[..4]);
        assert!(back.v[4].is_nan());
        assert_eq!(back.s, f64::INFINITY);
    }

    #[test]
    fn lenient_spellings_and_integers_are_read() {
        let back: Probe =
            serde_json::from_str(r#"{"v":["Infinity","+inf","-Infinity",3,-4],"s":1}"#).unwrap();
        assert_eq!(
            back.v,
            vec![f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, 3.0, -4.0]
        );
        assert_eq!(back.s, 1.0);
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(serde_json::from_str::<Probe>(r#"{"v":["big"],"s":0}"#).is_err());
        assert!(serde_json::from_str::<Probe>(r#"{"v":[null],"s":0}"#).is_err());
        assert!(serde_json::from_str::<Probe>(r#"{"v":[],"s":null}"#).is_err());
    }
}
