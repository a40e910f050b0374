"""The heap as a graph of objects marked from its roots, as the GC marks it: slots (every
object slot), pointers (what each object points to), roots and stack_maps (where marking
starts), graph and walk (edges and walks over them), types (objects per type), root_units and
retention (who holds what). Built on numpy; commands import it only when they need it."""
