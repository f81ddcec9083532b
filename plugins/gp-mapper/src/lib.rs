//! The default Chargebee → GP mapper component.
