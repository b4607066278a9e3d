//! Test support: the names of a struct's fields as its `Serialize` derive
//! declares them, in order, skipped ones included (the derive reports a
//! field `skip_serializing_if` leaves out through `skip_field`), so a test
//! can hold a list of a representation's fields to the representation.

use serde::ser::{self, Impossible, Serialize, SerializeStruct, Serializer};

/// The field names `value`'s `Serialize` declares (it must serialise as a
/// struct).
pub fn field_names<T: Serialize>(value: &T) -> Vec<&'static str> {
    value.serialize(Names::default()).expect("a struct")
}

#[derive(Debug)]
struct NotAStruct;

impl std::fmt::Display for NotAStruct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a struct")
    }
}

impl std::error::Error for NotAStruct {}

impl ser::Error for NotAStruct {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Self
    }
}

#[derive(Default)]
struct Names(Vec<&'static str>);

macro_rules! not_a_struct {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Err(NotAStruct)
        })*
    };
}

impl Serializer for Names {
    type Ok = Vec<&'static str>;
    type Error = NotAStruct;
    type SerializeSeq = Impossible<Self::Ok, NotAStruct>;
    type SerializeTuple = Impossible<Self::Ok, NotAStruct>;
    type SerializeTupleStruct = Impossible<Self::Ok, NotAStruct>;
    type SerializeTupleVariant = Impossible<Self::Ok, NotAStruct>;
    type SerializeMap = Impossible<Self::Ok, NotAStruct>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<Self::Ok, NotAStruct>;

    not_a_struct! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32), serialize_i64(i64),
        serialize_u8(u8), serialize_u16(u16), serialize_u32(u32), serialize_u64(u64), serialize_f32(f32),
        serialize_f64(f64), serialize_char(char), serialize_str(&str), serialize_bytes(&[u8]),
        serialize_none(), serialize_unit(), serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Self::Ok, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, _: &T) -> Result<Self::Ok, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, NotAStruct> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotAStruct> {
        Err(NotAStruct)
    }
}

impl SerializeStruct for Names {
    type Ok = Vec<&'static str>;
    type Error = NotAStruct;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, _: &T) -> Result<(), NotAStruct> {
        self.0.push(key);
        Ok(())
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), NotAStruct> {
        self.0.push(key);
        Ok(())
    }
    fn end(self) -> Result<Self::Ok, NotAStruct> {
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        first_field: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        left_out: Option<u8>,
        #[serde(rename = "type")]
        kind: &'static str,
    }

    #[test]
    fn every_declared_field_is_named_in_order_skipped_ones_too() {
        let sample = Sample {
            first_field: 1,
            left_out: None,
            kind: "x",
        };
        assert_eq!(field_names(&sample), ["firstField", "leftOut", "type"]);
        assert!(5u8.serialize(Names::default()).is_err());
    }
}
