"""GNU Radio 3.10 blocks built on heradecode's kernels."""
