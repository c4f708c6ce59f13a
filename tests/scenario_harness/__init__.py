"""The fake-cluster scenario harness: real KServe runtimes behind a router that honours the configured split."""
