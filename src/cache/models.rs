//! The backend's cache of deserialised models: at most [`MAX_CACHED_MODELS`] of them, evicting the
//! least recently used (the `lru` crate, as pg_jsonschema does). Keys carry the catalog row's
//! version, so a retrained, restored or hand-edited model is never served from stale bytes.

use super::memo::ScoreMemo;
use super::table_model::TableModel;
use crate::bytes_arg::RawBytea;
use crate::catalog::{self, ModelKey};
use crate::errors::{raise, OrRaise};
use gnsm_core::map::{is_map_bytes, MapModel};
use gnsm_core::model::Model;
use lru::LruCache;
use pgrx::PgSqlErrorCode;
use std::cell::RefCell;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::rc::Rc;

/// Models kept per backend. A model is 1-4 MB decoded; 16 bound a backend to about 64 MB while
/// covering the handful of models one session usually scores with.
pub const MAX_CACHED_MODELS: usize = 16;

/// The two model families one catalog holds: a table (row) model or a map model. Which one a
/// stored version is comes from its bytes (`is_map_bytes`), so the catalog needs no kind column.
pub enum Family {
    Table(TableModel),
    Map(Box<MapModel>),
}

/// A loaded model with its column metadata and its score memo.
pub struct CachedModel {
    /// Model name (for messages), or `bytes:<checksum>:<len>` for a model given as bytes.
    pub name: String,
    pub family: Family,
    /// Model columns in model order, as the catalog lists them.
    pub columns: Vec<String>,
    /// `format_type` of each column at training time; empty strings for a bytes model.
    pub column_types: Vec<String>,
    pub memo: ScoreMemo,
}

impl CachedModel {
    /// The table model for what needs no network weights (row encoding, percentiles); raises
    /// 0A000 for a map model (see `table_model`).
    pub fn table(&self) -> &Model {
        self.table_model().front()
    }

    /// The table model; raises 0A000 for a map model (whose rows are scored by `maps::score`;
    /// callers that serve both families check `map()` first).
    pub fn table_model(&self) -> &TableModel {
        match &self.family {
            Family::Table(m) => m,
            Family::Map(_) => raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("gnsm model \"{}\" is a map model; this function works on table models only", self.name),
                None,
                Some("score maps with gnsm_score and see where a map is wrong with gnsm_explain_map or gnsm_heatmap_png"),
            ),
        }
    }

    /// The map model, or None for a table model.
    pub fn map(&self) -> Option<&MapModel> {
        match &self.family {
            Family::Map(m) => Some(m),
            Family::Table(_) => None,
        }
    }

    /// Percentile (0-100) of a score among the training rows' (or maps') scores.
    pub fn percentile(&self, score: f64) -> f64 {
        match &self.family {
            Family::Table(m) => m.front().percentile(score),
            Family::Map(m) => m.percentile(score),
        }
    }

    /// The score above which a share `contamination` of the training rows (or maps) lies.
    pub fn threshold(&self, contamination: f64) -> gnsm_core::Result<f64> {
        match &self.family {
            Family::Table(m) => m.front().threshold(contamination),
            Family::Map(m) => m.threshold(contamination),
        }
    }

    /// Score of a coded row, through the memo.
    pub fn score(&self, codes: &[u32]) -> f64 {
        // the error context is formatted only on failure (the fast scorer takes microseconds)
        self.memo.get_or_compute(codes, |c| match self.table_model().scorer().score_codes(c) {
            Ok(s) => s,
            Err(e) => Err::<f64, _>(e).or_raise(&format!("gnsm model \"{}\"", self.name)),
        })
    }
}

/// A bounded least-recently-used map; generic so its policy can be tested without models.
pub struct LruMap<K: Hash + Eq, V> {
    entries: LruCache<K, Rc<V>>,
}

impl<K: Hash + Eq, V> LruMap<K, V> {
    /// An empty map holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        LruMap { entries: LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("at least one")) }
    }

    /// The entry for `key`, marking it most recently used.
    pub fn get(&mut self, key: &K) -> Option<Rc<V>> {
        self.entries.get(key).cloned()
    }

    /// Inserts an entry as the most recently used, evicting the least recently used when full.
    pub fn insert(&mut self, key: K, value: V) -> Rc<V> {
        let rc = Rc::new(value);
        self.entries.put(key, rc.clone());
        rc
    }

    /// Whether `key` is cached, without touching its recency.
    pub fn contains(&self, key: &K) -> bool {
        self.entries.contains(key)
    }
}

thread_local! {
    static MODELS: RefCell<LruMap<ModelKey, CachedModel>> = RefCell::new(LruMap::new(MAX_CACHED_MODELS));
}

/// Key of a model that came as bytes (aggregate-made): the checksum in its header (its first
/// bytes, at least 14 of them when it is a model) and its length.
pub fn bytes_key(head: &[u8], len: usize) -> ModelKey {
    let sum = head.get(6..14).and_then(|s| s.try_into().ok()).map_or(0, u64::from_le_bytes);
    ModelKey { name: format!("bytes:{sum:016x}:{len}"), version: 0, row_version: String::new(), relation: String::new() }
}

/// The cached model for `key`, or `load()` (then cached).
fn get_or_load(key: &ModelKey, load: impl FnOnce() -> CachedModel) -> Rc<CachedModel> {
    if let Some(m) = MODELS.with(|c| c.borrow_mut().get(key)) {
        return m;
    }
    let loaded = load();
    MODELS.with(|c| c.borrow_mut().insert(key.clone(), loaded))
}

/// The catalog's model version `key` names, from the cache or the catalog.
pub fn get(key: &ModelKey) -> Rc<CachedModel> {
    get_or_load(key, || {
        let (name, version) = (key.name.as_str(), key.version);
        let mut stored = catalog::load_front(key);
        let context = format!("gnsm model \"{name}\" version {version}");
        let (family, n_columns) = if is_map_bytes(&stored.bytes) {
            if stored.bytes.len() < stored.total_len {
                // a map model's network is in its front section; a longer value is damaged, and
                // reading all of it lets the decoder say so
                stored = catalog::load_all(key);
            }
            let m = MapModel::from_bytes(&stored.bytes).or_raise(&context);
            // the label map, then the image when the model was trained with one
            let n = 1 + usize::from(m.uses_image());
            (Family::Map(Box::new(m)), n)
        } else {
            let m = TableModel::read(Model::from_front(&stored.bytes).or_raise(&context), key);
            let n = m.front().n_columns();
            (Family::Table(m), n)
        };
        if stored.columns.len() != n_columns {
            raise(
                PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
                format!("{context}: the catalog lists {} columns but the model has {n_columns}", stored.columns.len()),
                None,
                Some("retrain the model with gnsm_train"),
            );
        }
        let memo = warm_memo(&family);
        CachedModel { name: name.to_string(), family, columns: stored.columns, column_types: stored.column_types, memo }
    })
}

/// A new memo: a table model's warm scores, nothing for a map model (maps are not memoised).
fn warm_memo(family: &Family) -> ScoreMemo {
    match family {
        Family::Table(m) => ScoreMemo::warm(m.front().warm.iter()),
        Family::Map(_) => ScoreMemo::default(),
    }
}

/// A model given as bytes (from `gnsm_train_agg`), cached by checksum and length; the whole value
/// is read only when it is not cached yet.
pub fn get_bytes(raw: &RawBytea) -> Rc<CachedModel> {
    let key = bytes_key(&raw.head(), raw.detoasted_len());
    get_or_load(&key, || raw.with_bytes(|bytes| load_bytes(&key, bytes)))
}

/// Decodes a model given as bytes.
fn load_bytes(key: &ModelKey, bytes: &[u8]) -> CachedModel {
    if is_map_bytes(bytes) {
        // the aggregate stores the column names in a map model's bytes; rows match them by name
        let m = MapModel::from_bytes(bytes).or_raise("gnsm model bytes");
        if m.columns.len() != 1 + usize::from(m.uses_image()) {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                "gnsm_score_bytes: these map model bytes carry no column names to match a row by",
                None,
                Some("score with gnsm_score(row, 'model_name'), or retrain with gnsm_train_agg"),
            );
        }
        let columns = m.columns.clone();
        let column_types = vec![String::new(); columns.len()];
        return CachedModel { name: key.name.clone(), family: Family::Map(Box::new(m)), columns, column_types, memo: ScoreMemo::default() };
    }
    let model = Model::from_bytes(bytes).or_raise("gnsm model bytes");
    let columns = model.column_names();
    let column_types = vec![String::new(); columns.len()];
    let family = Family::Table(TableModel::complete(model));
    let memo = warm_memo(&family);
    CachedModel { name: key.name.clone(), family, columns, column_types, memo }
}
