//! provisio-mapping: attribute mapping (spec a.4.5). Per target field: one
//! or more source attributes or an expression, a default value, and the
//! processing options create-only, trim, upper/lower case, parsing (CN from
//! DN, username from e-mail), masked, and clear-when-empty.
//!
//! # Processing order, per field
//!
//! 1. **Values**: from the `expression` if set (one value or none), else
//!    every value of every listed attribute, in order. Empty strings are
//!    dropped. A run-time expression failure yields no value and a warning.
//! 2. **Parser** on each value. A value that does not have the expected
//!    shape (not a DN whose first RDN is a CN; no `@`) is left unchanged
//!    and a warning (naming the field, never the value) is recorded.
//! 3. **Trim** (Unicode white space at both ends).
//! 4. **Case** (Unicode upper or lower case).
//! 5. Values that became empty are dropped. A **single-valued** target
//!    field takes the first remaining value; a **multi-valued** one
//!    (`multi_valued(field)` at compile time) takes all of them, one entry
//!    each, in order, exact duplicates removed.
//! 6. If none remains: the **default**, as written (no parser, trim or
//!    case); for a multi-valued field a one-entry list.
//! 7. Still none: the field is listed in [`Mapped::empty`], and also in
//!    [`Mapped::clear`] when it has `clear_when_empty`. By default a value
//!    that disappears at the source leaves the target value alone, as
//!    PingFederate does (spec a.6: attributes cannot be cleared).
//!
//! # Decisions
//!
//! * `attributes` and `expression` together are a configuration error: an
//!   expression names the attributes it reads with `${...}`.
//! * An expression always yields at most one value; for a multi-valued
//!   target field it becomes a one-entry list. A reference to a
//!   multi-valued source attribute yields its first non-empty value.
//! * `clear_when_empty` on a `create_only` field, an empty `default` and a
//!   mapping without attributes, expression and default are errors.
//! * Masked values never appear in `Debug` output ([`Mapped`] shows no
//!   values at all), warnings or errors; [`Mapped::redacted`] is the form
//!   for logs and plans, and [`Mapped::update_hash`] is keyed.

#![forbid(unsafe_code)]

pub mod config;
pub mod expr;
pub mod mapped;
pub mod parsers;
pub mod set;

pub use config::{Case, FieldMapping, ParserKind};
pub use expr::{ExprError, Expression};
pub use mapped::{Mapped, REDACTED};
pub use provisio_core::ops::AttributeValue;
pub use set::{MappingError, MappingSet};
