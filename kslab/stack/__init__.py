"""The serving stack kslab installs: versions per KServe release and (later) its components."""
