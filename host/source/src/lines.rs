//! Line numbers of byte offsets in a file's text, for messages that point
//! at a line (the JSON and CSV parsers): the line starts are found once, a
//! lookup is a binary search.

/// The line starts of one text.
pub(crate) struct Lines {
    pub(crate) starts: Vec<usize>,
}

impl Lines {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}
