"""Pure decoders of the Go runtime's structures. Nothing here imports a debugger."""
