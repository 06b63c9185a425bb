//! Drop-in replacements for [`parking_lot`](::parking_lot).
