"""SQL adapters of the catalog: repositories and the unit of work on its database."""
