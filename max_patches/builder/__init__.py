"""The dawhost Max patch builder: a patcher library, shared blocks, one module per patch."""
