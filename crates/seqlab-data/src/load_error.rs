/// Errors from loading data files (work in progress).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {}
