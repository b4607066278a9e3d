//! Value types that are valid once they exist ("parse, don't validate").
//!
//! Each has a `parse` that returns a message on failure; deserialising one
//! from the table trusts what was stored (it was parsed on the way in), so a
//! tightened rule never makes old data unreadable.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! string_value {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_value!(
    /// A tenant id: `^[a-z0-9][a-z0-9-]{1,62}$`. Generated ids are UUID v7
    /// (sortable by creation), which fit the same rule.
    TenantId
);

impl TenantId {
    pub const RULE: &'static str =
        "2 to 63 characters: lowercase letters, digits and '-', starting with a letter or digit";
    /// Path segments that name routes under `/v1/tenants/`, so never ids.
    pub const RESERVED: &'static [&'static str] = &["by-name", "mine"];

    /// A client-chosen id: the rule, and not a reserved word.
    pub fn parse_new(s: &str) -> Result<Self, String> {
        let id = Self::parse(s)?;
        if Self::RESERVED.contains(&s) {
            return Err(format!("'{s}' is reserved; choose another id"));
        }
        Ok(id)
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let mut chars = s.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if first_ok && rest_ok && (2..=63).contains(&s.len()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!("must be {}", Self::RULE))
        }
    }

    /// A fresh UUID v7 id.
    pub fn generate() -> Self {
        Self(Uuid::now_v7().to_string())
    }
}

string_value!(
    /// A tenant's display name: 1–128 characters after trimming, no control
    /// characters. Unique among tenants, compared by [`TenantName::key`].
    TenantName
);

impl TenantName {
    pub const MAX: usize = 128;

    pub fn parse(s: &str) -> Result<Self, String> {
        let trimmed = s.trim();
        let len = trimmed.chars().count();
        if len == 0 {
            return Err("must not be empty".into());
        }
        if len > Self::MAX {
            return Err(format!("must have at most {} characters (has {len})", Self::MAX));
        }
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The form uniqueness and sorting use: names that differ only in case
    /// have the same key.
    pub fn key(&self) -> String {
        name_key(&self.0)
    }
}

/// The case-insensitive form of a name or of a name prefix.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

string_value!(
    /// A user id: the `sub` of the user's tokens, 1–256 characters without
    /// control characters.
    UserId
);

impl UserId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let len = s.chars().count();
        if len == 0 || len > 256 || s.chars().any(char::is_control) {
            return Err("must be 1 to 256 characters without control characters".into());
        }
        Ok(Self(s.to_owned()))
    }
}

string_value!(
    /// A subtenant's code: 1–63 lowercase letters, digits and '-', starting
    /// with a letter or digit; unique within its tenant.
    SubtenantCode
);

impl SubtenantCode {
    pub const RULE: &'static str = "1 to 63 lowercase letters, digits and '-', starting with a letter or digit";

    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = (1..=63).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if !ok {
            return Err(format!("must be {}", Self::RULE));
        }
        // Paths name a subtenant by id (a UUID) or by code: a code must not look like an id.
        if Uuid::parse_str(s).is_ok() {
            return Err("must not be a UUID (subtenant ids are)".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// The code a name suggests: lowercase ASCII letters and digits, every
    /// other run of characters one '-', at most 50 characters (room for a
    /// numeric suffix); `subtenant` when nothing is left.
    pub fn slug(name: &str) -> Self {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                slug.push(c);
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug.trim_matches('-').chars().take(50).collect();
        let slug = slug.trim_end_matches('-');
        Self(if slug.is_empty() {
            "subtenant".to_owned()
        } else {
            slug.to_owned()
        })
    }

    /// The code with a numeric suffix: `acme-2`.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }
}

string_value!(
    /// A tag: 1–64 characters of letters, digits, spaces and `_ . : / = + - @`.
    Tag
);

impl Tag {
    pub const MAX: usize = 64;
    pub const RULE: &'static str = "letters, digits, spaces and _ . : / = + - @";

    pub fn parse(s: &str) -> Result<Self, String> {
        let len = s.chars().count();
        if len == 0 || len > Self::MAX {
            return Err(format!("must have 1 to {} characters", Self::MAX));
        }
        if s.trim() != s {
            return Err("must not start or end with a space".into());
        }
        let ok = |c: char| c.is_alphanumeric() || " _.:/=+-@".contains(c);
        if !s.chars().all(ok) {
            return Err(format!("may contain only {}", Self::RULE));
        }
        Ok(Self(s.to_owned()))
    }
}

string_value!(
    /// A DNS name, lowercased: labels of 1–63 letters, digits or '-', at
    /// least two labels, at most 253 characters.
    DomainName
);

impl DomainName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        let valid_label = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let labels: Vec<&str> = lower.split('.').collect();
        let ok = lower.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|l| valid_label(l))
            && !labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(Self(lower))
        } else {
            Err("must be a domain name such as example.com".into())
        }
    }
}

string_value!(
    /// An e-mail address: a local part of printable ASCII without spaces,
    /// '@', and a valid domain; at most 254 characters.
    EmailAddress
);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, String> {
        let invalid = || "must be an e-mail address such as ops@example.com".to_owned();
        let (local, domain) = s.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = (1..=64).contains(&local.len())
            && local
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"@()<>[]\\,;:\"".contains(&b))
            && !local.starts_with('.')
            && !local.ends_with('.');
        let domain = DomainName::parse(domain).map_err(|_| invalid())?;
        if !local_ok || s.len() > 254 {
            return Err(invalid());
        }
        Ok(Self(format!("{local}@{domain}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tenant_ids() {
        for ok in [
            "ab",
            "acme-corp",
            "0190a5d7-ac96-774b-bcce-b302099a8057",
            &"a".repeat(63),
        ] {
            assert!(TenantId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "-ab", "Acme", "acme_corp", "acme corp", "", &"a".repeat(64), "é1"] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
        assert!(TenantId::parse("mine").is_ok() && TenantId::parse_new("mine").is_err());
        assert!(TenantId::parse(TenantId::generate().as_str()).is_ok());
    }

    #[test]
    fn names_trim_and_compare_case_insensitively() {
        let a = TenantName::parse("  Acme Corp ").unwrap();
        assert_eq!(a.as_str(), "Acme Corp");
        assert_eq!(a.key(), TenantName::parse("ACME CORP").unwrap().key());
        assert!(TenantName::parse("   ").is_err());
        assert!(TenantName::parse("a\tb").is_err());
        assert!(TenantName::parse(&"é".repeat(128)).is_ok());
        assert!(TenantName::parse(&"é".repeat(129)).is_err());
    }

    #[test]
    fn domains_and_emails() {
        assert_eq!(DomainName::parse("Example.COM").unwrap().as_str(), "example.com");
        for bad in ["localhost", "-a.com", "a-.com", "a..com", "a.123", "a_b.com", "a.com."] {
            assert!(DomainName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            EmailAddress::parse("Ops+x@Example.com").unwrap().as_str(),
            "Ops+x@example.com"
        );
        for bad in [
            "ops",
            "@example.com",
            "ops@",
            "o ps@example.com",
            "ops@localhost",
            ".o@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subtenant_codes_and_slugs() {
        assert!(SubtenantCode::parse("sales-emea-2").is_ok());
        for bad in ["", "-a", "Sales", "a b", "a_b", &"a".repeat(64)] {
            assert!(SubtenantCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            SubtenantCode::slug("  Sales & Marketing (EMEA) ").as_str(),
            "sales-marketing-emea"
        );
        assert_eq!(SubtenantCode::slug("Ünïcode Café").as_str(), "n-code-caf");
        assert_eq!(SubtenantCode::slug("***").as_str(), "subtenant");
        assert_eq!(SubtenantCode::slug(&"x".repeat(80)).as_str().len(), 50);
        assert_eq!(SubtenantCode::slug("Acme").with_suffix(3).as_str(), "acme-3");
    }

    #[test]
    fn tags() {
        assert!(Tag::parse("env:prod").is_ok());
        assert!(Tag::parse("tier 1/gold").is_ok());
        assert!(Tag::parse(" x").is_err());
        assert!(Tag::parse("a,b").is_err());
        assert!(Tag::parse("").is_err());
    }

    proptest! {
        /// A slug, with any suffix, is always a valid code.
        #[test]
        fn slugs_are_codes(name in "\\PC{0,200}", n in 2u32..100_000) {
            let slug = SubtenantCode::slug(&name);
            prop_assert!(SubtenantCode::parse(slug.as_str()).is_ok(), "{}", slug);
            prop_assert!(SubtenantCode::parse(slug.with_suffix(n).as_str()).is_ok());
        }

        /// Any string the rule accepts parses, and parsing never panics.
        #[test]
        fn tenant_id_accepts_exactly_its_pattern(s in "\\PC{0,70}") {
            let expected = regex_like_tenant_id(&s);
            prop_assert_eq!(TenantId::parse(&s).is_ok(), expected);
        }

        #[test]
        fn generated_tenant_ids_parse(s in "[a-z0-9][a-z0-9-]{1,62}") {
            prop_assert!(TenantId::parse(&s).is_ok());
        }

        /// The name key is case-insensitive and stable: equal keys for any
        /// change of ASCII case, and the key of a key is itself.
        #[test]
        fn name_key_ignores_case(s in "[ -~]{1,128}") {
            if let Ok(name) = TenantName::parse(&s) {
                let upper = TenantName::parse(&s.to_uppercase()).unwrap();
                prop_assert_eq!(name.key(), upper.key());
                prop_assert_eq!(name_key(&name.key()), name.key());
            }
        }
    }

    fn regex_like_tenant_id(s: &str) -> bool {
        let b = s.as_bytes();
        (2..=63).contains(&b.len())
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b[1..]
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    }
}
