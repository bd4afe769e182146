"""Reports: self-contained HTML pages of search hits and evaluation runs."""
