//! One module per command.

pub(crate) mod apply;
pub(crate) mod complete;
pub(crate) mod diff;
pub(crate) mod fix;
pub(crate) mod info;
pub(crate) mod lint;
