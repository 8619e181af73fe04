//! The shape of the APIs' vocabularies (`Privilege`, `EventKind`,
//! `Operation`): closed lists of names, each a Rust enum that travels as
//! its name (a JSON string), with a line that says what it means.

/// Declares a vocabulary: `Variant = "name" => "what it means",` per entry.
/// The enum serializes as the name, parses from it (`FromStr`), lists
/// itself (`ALL`) and describes each entry (`description`).
#[macro_export]
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($variant:ident = $id:tt => $description:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        pub enum $name {
            $(
                #[doc = $description]
                #[serde(rename = $id)]
                $variant,
            )*
        }

        impl $name {
            /// Every entry, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The entry's name, as it travels.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $id,)*
                }
            }

            /// What the entry means, in one line.
            pub fn description(self) -> &'static str {
                match self {
                    $($name::$variant => $description,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::vocab::Unknown;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($id => Ok($name::$variant),)*
                    _ => Err($crate::vocab::Unknown {
                        vocabulary: stringify!($name),
                        name: s.to_string(),
                    }),
                }
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

/// A name that is not in a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} {name:?}")]
pub struct Unknown {
    pub vocabulary: &'static str,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use crate::{EventKind, Operation, Privilege};
    use std::collections::BTreeSet;

    /// Names are unique, travel as themselves and parse back.
    fn check<T>(all: &[T])
    where
        T: Copy + std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug,
        T: serde::Serialize + serde::de::DeserializeOwned,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        let names: BTreeSet<String> = all.iter().map(|v| v.to_string()).collect();
        assert_eq!(names.len(), all.len(), "a name twice");
        for &v in all {
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json, v.to_string());
            assert_eq!(serde_json::from_value::<T>(json).unwrap(), v);
            assert_eq!(v.to_string().parse::<T>().unwrap(), v);
        }
    }

    #[test]
    fn vocabularies() {
        check(Privilege::ALL);
        check(EventKind::ALL);
        check(Operation::ALL);
        let e = "VirtualMachine.Fly".parse::<Privilege>().unwrap_err();
        assert_eq!(e.to_string(), "unknown Privilege \"VirtualMachine.Fly\"");
        assert!(EventKind::ALL.iter().all(|k| k.as_str().ends_with("Event")));
    }
}
