"""Files on disk, read without a debugger and without knowledge of the Go runtime: the Go
binary (ELF segments, symbols, build ids, DWARF, the per-binary layout cache) and core files."""
