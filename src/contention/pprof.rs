//! A small encoder for pprof's `profile.proto`: just what a contention profile needs, so that
//! exporting one pulls in no protobuf dependency.

use std::collections::HashMap;

/// Protobuf wire-format writer.
#[derive(Default)]
struct Message {
    bytes: Vec<u8>,
}

impl Message {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.bytes.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.bytes.push(v as u8);
    }

    fn key(&mut self, field: u32, wire_type: u8) {
        self.varint(((field as u64) << 3) | wire_type as u64);
    }

    fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, 0);
            self.varint(v);
        }
    }

    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        self.key(field, 2);
        self.varint(bytes.len() as u64);
        self.bytes.extend_from_slice(bytes);
    }

    fn message(&mut self, field: u32, m: Message) {
        self.bytes(field, &m.bytes);
    }

    fn packed(&mut self, field: u32, values: &[u64]) {
        let mut inner = Message::default();
        for v in values {
            inner.varint(*v);
        }
        self.bytes(field, &inner.bytes);
    }
}

/// Field numbers of `profile.proto` (github.com/google/pprof, proto/profile.proto).
mod field {
    /// `Profile`.
    pub(super) const SAMPLE_TYPE: u32 = 1;
    pub(super) const SAMPLE: u32 = 2;
    pub(super) const LOCATION: u32 = 4;
    pub(super) const FUNCTION: u32 = 5;
    pub(super) const STRING_TABLE: u32 = 6;
    pub(super) const TIME_NANOS: u32 = 9;
    pub(super) const PERIOD_TYPE: u32 = 11;
    pub(super) const PERIOD: u32 = 12;
    /// `ValueType`.
    pub(super) const VALUE_TYPE_TYPE: u32 = 1;
    pub(super) const VALUE_TYPE_UNIT: u32 = 2;
    /// `Sample`.
    pub(super) const SAMPLE_LOCATION_ID: u32 = 1;
    pub(super) const SAMPLE_VALUE: u32 = 2;
    pub(super) const SAMPLE_LABEL: u32 = 3;
    /// `Label`.
    pub(super) const LABEL_KEY: u32 = 1;
    pub(super) const LABEL_STR: u32 = 2;
    /// `Location`.
    pub(super) const LOCATION_ID: u32 = 1;
    pub(super) const LOCATION_LINE: u32 = 4;
    /// `Line`.
    pub(super) const LINE_FUNCTION_ID: u32 = 1;
    /// `Function`.
    pub(super) const FUNCTION_ID: u32 = 1;
    pub(super) const FUNCTION_NAME: u32 = 2;
    pub(super) const FUNCTION_SYSTEM_NAME: u32 = 3;
}

/// The string table: index 0 is the empty string, as the format requires.
struct Strings {
    index: HashMap<String, u64>,
    table: Vec<String>,
}

impl Strings {
    fn new() -> Self {
        Strings {
            index: HashMap::from([(String::new(), 0)]),
            table: vec![String::new()],
        }
    }

    fn id(&mut self, s: &str) -> u64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as u64;
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

fn value_type(strings: &mut Strings, ty: &str, unit: &str) -> Message {
    let mut m = Message::default();
    m.uint(field::VALUE_TYPE_TYPE, strings.id(ty));
    m.uint(field::VALUE_TYPE_UNIT, strings.id(unit));
    m
}

/// One sample to encode: frames root first, the leaf label, the lock label, count and delay.
pub(crate) struct Sample<'a> {
    pub(crate) frames: &'a [String],
    pub(crate) leaf: &'a str,
    pub(crate) lock: &'a str,
    pub(crate) count: u64,
    pub(crate) delay_ns: u64,
}

pub(crate) fn encode_samples<'a>(samples: impl IntoIterator<Item = Sample<'a>>) -> Vec<u8> {
    let mut strings = Strings::new();
    let mut profile = Message::default();
    profile.message(
        field::SAMPLE_TYPE,
        value_type(&mut strings, "contentions", "count"),
    );
    profile.message(
        field::SAMPLE_TYPE,
        value_type(&mut strings, "delay", "nanoseconds"),
    );
    let lock_key = strings.id("lock");
    // One function and one location per distinct frame name; ids start at 1.
    let mut locations: HashMap<String, u64> = HashMap::new();
    let mut functions = Vec::new();
    for sample in samples {
        let mut ids = Vec::with_capacity(sample.frames.len() + 1);
        // pprof lists a sample's locations leaf first.
        for name in
            std::iter::once(sample.leaf).chain(sample.frames.iter().rev().map(String::as_str))
        {
            let next = locations.len() as u64 + 1;
            let id = *locations.entry(name.to_owned()).or_insert_with(|| {
                functions.push((next, name.to_owned()));
                next
            });
            ids.push(id);
        }
        let mut s = Message::default();
        s.packed(field::SAMPLE_LOCATION_ID, &ids);
        s.packed(field::SAMPLE_VALUE, &[sample.count, sample.delay_ns]);
        let mut label = Message::default();
        label.uint(field::LABEL_KEY, lock_key);
        label.uint(field::LABEL_STR, strings.id(sample.lock));
        s.message(field::SAMPLE_LABEL, label);
        profile.message(field::SAMPLE, s);
    }
    for (id, _) in &functions {
        let mut line = Message::default();
        line.uint(field::LINE_FUNCTION_ID, *id);
        let mut location = Message::default();
        location.uint(field::LOCATION_ID, *id);
        location.message(field::LOCATION_LINE, line);
        profile.message(field::LOCATION, location);
    }
    for (id, name) in functions {
        let name_id = strings.id(&name);
        let mut function = Message::default();
        function.uint(field::FUNCTION_ID, id);
        function.uint(field::FUNCTION_NAME, name_id);
        function.uint(field::FUNCTION_SYSTEM_NAME, name_id);
        profile.message(field::FUNCTION, function);
    }
    let period_type = value_type(&mut strings, "contentions", "count");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    for s in &strings.table {
        profile.bytes(field::STRING_TABLE, s.as_bytes());
    }
    profile.uint(field::TIME_NANOS, now);
    profile.message(field::PERIOD_TYPE, period_type);
    profile.uint(field::PERIOD, 1);
    profile.bytes
}

#[cfg(feature = "enabled")]
pub(crate) fn encode(resolved: &[super::profile::Resolved]) -> Vec<u8> {
    encode_samples(resolved.iter().map(|r| Sample {
        frames: &r.frames,
        leaf: &r.leaf,
        lock: &r.lock,
        count: r.stat.count.round() as u64,
        delay_ns: r.stat.delay_ns.round() as u64,
    }))
}

#[cfg(not(feature = "enabled"))]
pub(crate) fn encode_empty() -> Vec<u8> {
    encode_samples(std::iter::empty())
}
