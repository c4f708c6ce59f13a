"""kslab: the KServe lab as a repeatable, measured experiment."""
