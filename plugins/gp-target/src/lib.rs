//! The Dynamics GP target component.
