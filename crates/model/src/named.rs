//! Choices that configs and flags name with a word: activations, losses, optimizers, backends.
//!
//! Every such choice is an enum declared with [`named_enum!`], which writes the enum, the list
//! of its names, `Display`, `FromStr` and serde's string form from one table. So a new variant
//! is selectable everywhere the moment it is declared, and every unknown name gets the same
//! message shape: ``unknown loss `mae`; expected one of ssr, mse``.

use std::fmt;

/// An enum whose variants are chosen by name (see [`named_enum!`](crate::named_enum)).
pub trait Named: Copy + Sized + 'static {
    /// What the choice is called in messages (`loss`, `activation`, `dtype`).
    const WHAT: &'static str;
    /// Every variant, in the order the documentation lists them.
    const ALL: &'static [Self];

    /// The variant's name in config files, flags and JSON.
    fn name(self) -> &'static str;

    /// Every name, in [`Named::ALL`] order.
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.name()).collect()
    }

    /// The variant called `name`.
    ///
    /// # Errors
    /// [`UnknownName`] listing the accepted names.
    fn from_name(name: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name() == name)
            .ok_or_else(|| UnknownName {
                what: Self::WHAT,
                given: name.to_string(),
                expected: Self::names(),
            })
    }
}

/// A name that matches no variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// What was being chosen (`loss`).
    pub what: &'static str,
    /// The name as written.
    pub given: String,
    /// The accepted names.
    pub expected: Vec<&'static str>,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, given, expected) = (self.what, &self.given, self.expected.join(", "));
        match closest(given, self.expected.iter().copied()) {
            Some(name) => write!(
                f,
                "unknown {what} `{given}`: did you mean `{name}`? (expected one of {expected})"
            ),
            None => write!(f, "unknown {what} `{given}`; expected one of {expected}"),
        }
    }
}

/// The name of `names` closest to `given`, when it is close enough to be a slip of the keyboard:
/// at most a quarter of its letters typed wrong, missed, added or swapped (so `mae` is not
/// taken for `mse`, a loss of its own).
pub fn closest<'a>(given: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names
        .into_iter()
        .map(|name| (strsim::damerau_levenshtein(given, name), name))
        .filter(|&(distance, name)| distance * 4 <= name.chars().count())
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, name)| name)
}

impl std::error::Error for UnknownName {}

/// Re-exported for [`named_enum!`], so crates using the macro need no serde dependency of
/// their own.
#[doc(hidden)]
pub use serde as __serde;

/// Declares an enum chosen by name:
///
/// ```
/// squiggle_model::named_enum! {
///     /// How hot.
///     pub enum Spice as "spice" {
///         /// Not at all.
///         Mild = "mild",
///         /// Very.
///         Hot = "hot",
///     }
/// }
/// use squiggle_model::Named;
/// assert_eq!("hot".parse::<Spice>(), Ok(Spice::Hot));
/// assert_eq!(Spice::names(), ["mild", "hot"]);
/// assert_eq!(
///     "warm".parse::<Spice>().unwrap_err().to_string(),
///     "unknown spice `warm`; expected one of mild, hot"
/// );
/// ```
///
/// The enum derives `Clone, Copy, Debug, PartialEq, Eq, Hash`; more derives (such as
/// `Default` with a `#[default]` variant) go in the attributes.
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $Variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $Name {
            $( $(#[$vmeta])* $Variant ),+
        }

        impl $crate::Named for $Name {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &[$( $Name::$Variant ),+];

            fn name(self) -> &'static str {
                match self {
                    $( $Name::$Variant => $text ),+
                }
            }
        }

        impl ::core::fmt::Display for $Name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str($crate::Named::name(*self))
            }
        }

        impl ::core::str::FromStr for $Name {
            type Err = $crate::UnknownName;

            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                <$Name as $crate::Named>::from_name(s)
            }
        }

        impl $crate::__serde::Serialize for $Name {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str($crate::Named::name(*self))
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $Name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let name = <::std::string::String as $crate::__serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                <$Name as $crate::Named>::from_name(&name)
                    .map_err(<D::Error as $crate::__serde::de::Error>::custom)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    named_enum! {
        /// A test choice.
        #[derive(Default)]
        enum Colour as "colour" {
            /// The default.
            #[default]
            Red = "red",
            /// Another.
            Blue = "blue",
        }
    }

    #[test]
    fn names_round_trip_through_every_form() {
        for &c in Colour::ALL {
            assert_eq!(c.name().parse::<Colour>(), Ok(c));
            assert_eq!(c.to_string(), c.name());
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), c);
        }
        assert_eq!(Colour::default(), Colour::Red);
    }

    #[test]
    fn unknown_names_list_the_accepted_ones() {
        let err = "green".parse::<Colour>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown colour `green`; expected one of red, blue"
        );
        let err = serde_json::from_str::<Colour>("\"green\"").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown colour `green`; expected one of red, blue"),
            "{err}"
        );
        // A slip of the keyboard is named.
        assert_eq!(
            "bleu".parse::<Colour>().unwrap_err().to_string(),
            "unknown colour `bleu`: did you mean `blue`? (expected one of red, blue)"
        );
    }

    #[test]
    fn only_a_close_name_is_suggested() {
        let keys = ["learning_rate", "min_learning_rate", "epochs", "loss"];
        assert_eq!(closest("learnin_rate", keys), Some("learning_rate"));
        assert_eq!(closest("epoch", keys), Some("epochs"));
        assert_eq!(closest("los", keys), Some("loss"));
        assert_eq!(closest("banana", keys), None);
        assert_eq!(closest("mae", ["ssr", "mse"]), None);
        assert_eq!(closest("rate", keys), None);
    }
}
