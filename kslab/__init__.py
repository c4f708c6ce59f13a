"""kslab: the KServe model-serving lab as a repeatable, measured experiment."""

__version__ = "0.1.0"
